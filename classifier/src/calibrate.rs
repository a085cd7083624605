//! Calibration: temperature scaling fitted by minimising the negative log-likelihood of
//! out-of-fold logits, and per-class decision thresholds chosen on the calibrated
//! out-of-fold probabilities.

use crate::BENIGN;
use crate::ngram::{calibrated, decide, softmax};

/// Mean negative log-likelihood of `truth` under `softmax(logits / t)`.
pub fn nll(logits: &[[f32; 5]], truth: &[usize], t: f32) -> f64 {
    if logits.is_empty() {
        return 0.0;
    }
    let sum: f64 = logits
        .iter()
        .zip(truth)
        .map(|(z, &y)| -f64::from(softmax(z, t)[y].max(1e-12)).ln())
        .sum();
    sum / logits.len() as f64
}

/// The temperature in [e^-3, e^3] with the lowest NLL (golden-section search on log T).
pub fn fit_temperature(logits: &[[f32; 5]], truth: &[usize]) -> f32 {
    let f = |log_t: f64| nll(logits, truth, log_t.exp() as f32);
    let (mut a, mut b) = (-3.0f64, 3.0f64);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp() as f32
}

/// Lowest threshold any class may get: below it a class would win on noise.
pub const MIN_THRESHOLD: f32 = 0.2;

fn benign_fpr(preds: &[usize], truth: &[usize]) -> f64 {
    let benign = truth.iter().filter(|t| **t == BENIGN).count();
    let flagged = preds
        .iter()
        .zip(truth)
        .filter(|(p, t)| **t == BENIGN && **p != BENIGN)
        .count();
    if benign == 0 {
        0.0
    } else {
        flagged as f64 / benign as f64
    }
}

/// Per fraud class, the threshold that maximises the macro-F1 of the decisions while at most
/// `max_benign_fpr` of benign examples are flagged (a false alarm costs a police reviewer's
/// time and can put a legitimate page on a takedown list); searched one class at a time
/// (three passes, starting from the strictest setting) on a grid from [`MIN_THRESHOLD`] to
/// 0.95.
pub fn fit_thresholds(probs: &[[f32; 5]], truth: &[usize], max_benign_fpr: f64) -> [f32; 4] {
    let grid: Vec<f32> = (0..=75).map(|i| MIN_THRESHOLD + i as f32 * 0.01).collect();
    let mut t = [0.95f32; 5];
    for _ in 0..3 {
        for c in 0..BENIGN {
            let mut best: Option<(f64, f32)> = None;
            for &g in &grid {
                t[c] = g;
                let preds: Vec<usize> = probs.iter().map(|p| decide(p, &t)).collect();
                if benign_fpr(&preds, truth) > max_benign_fpr {
                    continue;
                }
                let f1 = crate::metrics::macro_f1(&preds, truth);
                // Ties go to the higher threshold: fewer false alarms for the same F1.
                if best.is_none_or(|(b, _)| f1 >= b) {
                    best = Some((f1, g));
                }
            }
            t[c] = best.map_or(0.95, |(_, g)| g);
        }
    }
    [t[0], t[1], t[2], t[3]]
}

/// Calibrated probabilities and decisions for logits.
pub fn decisions(
    logits: &[[f32; 5]],
    temperature: f32,
    thresholds: &[f32; 5],
) -> (Vec<[f32; 5]>, Vec<usize>) {
    let probs = calibrated(logits, temperature);
    let preds = probs.iter().map(|p| decide(p, thresholds)).collect();
    (probs, preds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_recovers_a_known_scale() {
        // Logits that are 3x too confident for a model that is right 80% of the time.
        let mut logits = Vec::new();
        let mut truth = Vec::new();
        for i in 0..500 {
            let y = i % 5;
            let guess = if i % 10 < 8 { y } else { (y + 1) % 5 };
            let mut z = [0f32; 5];
            z[guess] = 3.0 * (0.8f32 / 0.05).ln();
            logits.push(z);
            truth.push(y);
        }
        let t = fit_temperature(&logits, &truth);
        assert!((t - 3.0).abs() < 0.05, "{t}");
        assert!(nll(&logits, &truth, t) < nll(&logits, &truth, 1.0));
    }

    #[test]
    fn thresholds_keep_false_alarms_under_the_cap() {
        // 100 benign with fraud probability spread 0..0.891; 20 scams at 0.7..0.89.
        let mut probs = Vec::new();
        let mut truth = Vec::new();
        for i in 0..100 {
            let p = i as f32 * 0.009;
            probs.push([p, 0.0, 0.0, 0.0, 1.0 - p]);
            truth.push(BENIGN);
        }
        for i in 0..20 {
            let p = 0.7 + i as f32 / 100.0;
            probs.push([p, 0.0, 0.0, 0.0, 1.0 - p]);
            truth.push(0);
        }
        let t = fit_thresholds(&probs, &truth, 0.02);
        let preds: Vec<usize> = probs
            .iter()
            .map(|p| decide(p, &[t[0], t[1], t[2], t[3], 0.0]))
            .collect();
        assert!(benign_fpr(&preds, &truth) <= 0.02, "{t:?}");
        assert!(t[0] > 0.87 && t[0] < 0.9, "{t:?}");
    }

    #[test]
    fn thresholds_stay_in_range() {
        let probs = vec![[0.6, 0.1, 0.1, 0.1, 0.1], [0.3, 0.1, 0.1, 0.1, 0.4]];
        let t = fit_thresholds(&probs, &[0, 4], 1.0);
        assert!(t.iter().all(|x| (MIN_THRESHOLD..=0.95).contains(x)));
        assert!(t[0] > 0.3 && t[0] <= 0.6, "{t:?}");
    }
}
