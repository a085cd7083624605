//! Evaluation metrics: confusion matrix, per-class precision/recall/F1, macro-F1, scam recall
//! at a fixed false-positive rate on benign, expected calibration error and Brier score,
//! overall and per group (Vietnamese with diacritics, without, English).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{BENIGN, LABELS};

/// Per-class figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// Scam-vs-benign figures: a document is "scam" when its label is any fraud class.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Detection {
    /// Recall of scam documents at the model's own decisions.
    pub recall: f64,
    /// Share of benign documents the model's decisions flag.
    pub false_positive_rate: f64,
    /// Recall when the scam score (1 − P(benign)) threshold is set so that at most 1 % of
    /// benign documents are flagged.
    pub recall_at_1pct_fpr: f64,
    /// That threshold.
    pub threshold_at_1pct_fpr: f64,
}

/// Figures for one slice of the data.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub examples: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[truth][predicted]`, in label order.
    pub confusion: [[usize; 5]; 5],
    pub detection: Detection,
    /// Expected calibration error (15 equal-width bins on the top probability).
    pub ece: f64,
    /// Multi-class Brier score.
    pub brier: f64,
}

/// An evaluation: overall and per group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub overall: Summary,
    pub groups: BTreeMap<String, Summary>,
}

/// Confusion matrix `[truth][predicted]`.
pub fn confusion(preds: &[usize], truth: &[usize]) -> [[usize; 5]; 5] {
    let mut m = [[0usize; 5]; 5];
    for (&p, &t) in preds.iter().zip(truth) {
        m[t][p] += 1;
    }
    m
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Per-class metrics from a confusion matrix.
pub fn per_class(m: &[[usize; 5]; 5]) -> Vec<ClassMetrics> {
    (0..5)
        .map(|c| {
            let tp = m[c][c];
            let predicted: usize = (0..5).map(|t| m[t][c]).sum();
            let support: usize = m[c].iter().sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassMetrics {
                label: LABELS[c].to_string(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect()
}

/// Macro-F1 over the classes present in `truth` or `preds`.
pub fn macro_f1(preds: &[usize], truth: &[usize]) -> f64 {
    let m = confusion(preds, truth);
    let classes: Vec<ClassMetrics> = per_class(&m)
        .into_iter()
        .enumerate()
        .filter(|(c, k)| k.support > 0 || (0..5).any(|t| m[t][*c] > 0))
        .map(|(_, k)| k)
        .collect();
    if classes.is_empty() {
        return 0.0;
    }
    classes.iter().map(|c| c.f1).sum::<f64>() / classes.len() as f64
}

/// Scam recall at a false-positive rate of at most `fpr` on benign, and the threshold on the
/// scam score that gives it (flag when score > threshold).
pub fn recall_at_fpr(scores: &[f32], is_scam: &[bool], fpr: f64) -> (f64, f64) {
    let mut benign: Vec<f32> = scores
        .iter()
        .zip(is_scam)
        .filter(|(_, s)| !**s)
        .map(|(x, _)| *x)
        .collect();
    let scams: Vec<f32> = scores
        .iter()
        .zip(is_scam)
        .filter(|(_, s)| **s)
        .map(|(x, _)| *x)
        .collect();
    if scams.is_empty() {
        return (0.0, 1.0);
    }
    if benign.is_empty() {
        return (1.0, 0.0);
    }
    benign.sort_by(|a, b| b.total_cmp(a));
    let allowed = (fpr * benign.len() as f64).floor() as usize;
    let threshold = benign[allowed.min(benign.len() - 1)];
    let hit = scams.iter().filter(|s| **s > threshold).count();
    (ratio(hit, scams.len()), f64::from(threshold))
}

/// Expected calibration error over `bins` equal-width bins of the top probability.
pub fn ece(probs: &[[f32; 5]], truth: &[usize], bins: usize) -> f64 {
    let mut count = vec![0usize; bins];
    let mut conf = vec![0f64; bins];
    let mut correct = vec![0f64; bins];
    for (p, &t) in probs.iter().zip(truth) {
        let (best, top) = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, v)| (i, f64::from(*v)))
            .unwrap_or((BENIGN, 0.0));
        let b = ((top * bins as f64) as usize).min(bins - 1);
        count[b] += 1;
        conf[b] += top;
        correct[b] += if best == t { 1.0 } else { 0.0 };
    }
    let n = probs.len().max(1) as f64;
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (count[b] as f64 / n) * ((correct[b] - conf[b]) / count[b] as f64).abs())
        .sum()
}

/// Multi-class Brier score (mean over examples of the squared error summed over classes).
pub fn brier(probs: &[[f32; 5]], truth: &[usize]) -> f64 {
    let n = probs.len().max(1) as f64;
    probs
        .iter()
        .zip(truth)
        .map(|(p, &t)| {
            (0..5)
                .map(|c| {
                    let y = if c == t { 1.0 } else { 0.0 };
                    (f64::from(p[c]) - y).powi(2)
                })
                .sum::<f64>()
        })
        .sum::<f64>()
        / n
}

/// All figures for one set of predictions.
pub fn summarize(probs: &[[f32; 5]], preds: &[usize], truth: &[usize]) -> Summary {
    let m = confusion(preds, truth);
    let per = per_class(&m);
    let correct = (0..5).map(|c| m[c][c]).sum::<usize>();
    let is_scam: Vec<bool> = truth.iter().map(|&t| t != BENIGN).collect();
    let scores: Vec<f32> = probs.iter().map(|p| 1.0 - p[BENIGN]).collect();
    let (recall_at_1pct_fpr, threshold_at_1pct_fpr) = recall_at_fpr(&scores, &is_scam, 0.01);
    let scams = is_scam.iter().filter(|s| **s).count();
    let caught = preds
        .iter()
        .zip(&is_scam)
        .filter(|(p, s)| **s && **p != BENIGN)
        .count();
    let benign = truth.len() - scams;
    let false_alarms = preds
        .iter()
        .zip(&is_scam)
        .filter(|(p, s)| !**s && **p != BENIGN)
        .count();
    Summary {
        examples: truth.len(),
        accuracy: ratio(correct, truth.len()),
        macro_f1: macro_f1(preds, truth),
        per_class: per,
        confusion: m,
        detection: Detection {
            recall: ratio(caught, scams),
            false_positive_rate: ratio(false_alarms, benign),
            recall_at_1pct_fpr,
            threshold_at_1pct_fpr,
        },
        ece: ece(probs, truth, 15),
        brier: brier(probs, truth),
    }
}

/// Overall and per-group figures; `groups[i]` names the group of example `i`.
pub fn report(probs: &[[f32; 5]], preds: &[usize], truth: &[usize], groups: &[String]) -> Report {
    let mut by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        by.entry(g.clone()).or_default().push(i);
    }
    let groups = by
        .into_iter()
        .map(|(g, idx)| {
            let p: Vec<[f32; 5]> = idx.iter().map(|&i| probs[i]).collect();
            let d: Vec<usize> = idx.iter().map(|&i| preds[i]).collect();
            let t: Vec<usize> = idx.iter().map(|&i| truth[i]).collect();
            (g, summarize(&p, &d, &t))
        })
        .collect();
    Report {
        overall: summarize(probs, preds, truth),
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_confusion_and_f1() {
        let truth = [0, 0, 1, 4, 4, 4];
        let preds = [0, 4, 1, 4, 4, 0];
        let m = confusion(&preds, &truth);
        assert_eq!(m[0][0], 1);
        assert_eq!(m[0][4], 1);
        assert_eq!(m[4][0], 1);
        let per = per_class(&m);
        // class 0: precision 1/2, recall 1/2, F1 1/2; class 1: 1, 1, 1; benign: 2/3, 2/3.
        assert!((per[0].f1 - 0.5).abs() < 1e-9);
        assert!((per[1].f1 - 1.0).abs() < 1e-9);
        assert!((per[4].f1 - 2.0 / 3.0).abs() < 1e-9);
        let mf = macro_f1(&preds, &truth);
        assert!((mf - (0.5 + 1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-9);
    }

    #[test]
    fn recall_at_fpr_uses_the_benign_tail() {
        // 100 benign scores 0.00..0.99; at 1 % FPR one benign may pass: threshold 0.98.
        let mut scores: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
        let mut scam = vec![false; 100];
        scores.extend([0.985, 0.5, 0.999]);
        scam.extend([true, true, true]);
        let (r, t) = recall_at_fpr(&scores, &scam, 0.01);
        assert!((t - 0.98).abs() < 1e-6, "{t}");
        assert!((r - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn ece_of_a_perfectly_calibrated_model_is_zero() {
        let probs = vec![[1.0, 0.0, 0.0, 0.0, 0.0]; 4];
        assert!(ece(&probs, &[0, 0, 0, 0], 15) < 1e-9);
        // Confident and always wrong: ECE 1.
        assert!((ece(&probs, &[1, 1, 1, 1], 15) - 1.0).abs() < 1e-9);
        assert!((brier(&probs, &[0, 0, 0, 0])).abs() < 1e-9);
    }
}
