//! Training of the n-gram model in candle: AdamW over the embedding table and the linear
//! layer, k-fold cross-validation for out-of-fold logits, temperature scaling and per-class
//! thresholds fitted on those, then a final fit on all the data.
//!
//! Everything random (initial weights, fold assignment, batch order) comes from one
//! [`SplitMix64`] seeded by the caller, and candle's CPU ops used here are deterministic, so
//! the same data and seed give the same weights.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use crate::ClassifierError;
use crate::calibrate::{fit_temperature, fit_thresholds};
use crate::features::{Bag, FeatureConfig};
use crate::ngram::{
    ARCHITECTURE, ModelConfig, NgramModel, Params, TrainingInfo, calibrated, to_rows,
};
use crate::{BENIGN, LABELS};

/// Hyper-parameters of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub name: String,
    pub seed: u64,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub dim: usize,
    pub folds: usize,
    /// Cap on the out-of-fold share of benign examples the thresholds may flag.
    pub max_benign_fpr: f64,
    /// Share of a training document's features dropped at random each time it is seen
    /// (regularisation: the model must not lean on any one phrase).
    pub feature_dropout: f32,
    pub features: FeatureConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            name: "ngram-vi".into(),
            seed: 20261123,
            epochs: 5,
            batch_size: 64,
            learning_rate: 0.05,
            weight_decay: 1e-4,
            dim: 8,
            folds: 5,
            max_benign_fpr: 0.05,
            feature_dropout: 0.3,
            features: FeatureConfig::default(),
        }
    }
}

/// A small, fixed, well-known PRNG (Steele, Lea and Flood's SplitMix64).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// Progress reports: `(steps done, steps in total)` over the whole run.
pub trait Progress {
    fn set_total(&self, total: u64);
    fn step(&self);
}

/// A progress sink that reports nothing.
#[derive(Debug)]
pub struct Silent;

impl Progress for Silent {
    fn set_total(&self, _: u64) {}
    fn step(&self) {}
}

fn uniform(rng: &mut SplitMix64, shape: (usize, usize), scale: f32) -> candle_core::Result<Tensor> {
    let v: Vec<f32> = (0..shape.0 * shape.1)
        .map(|_| (rng.next_f32() * 2.0 - 1.0) * scale)
        .collect();
    Tensor::from_vec(v, shape, &Device::Cpu)
}

/// Steps one fit takes.
fn steps(cfg: &TrainConfig, n: usize) -> usize {
    cfg.epochs * n.div_ceil(cfg.batch_size)
}

/// Trains parameters on `bags` with `labels` (indices into [`LABELS`]).
pub fn fit(
    cfg: &TrainConfig,
    bags: &[&Bag],
    labels: &[u32],
    rng: &mut SplitMix64,
    progress: &dyn Progress,
) -> Result<Params, ClassifierError> {
    let buckets = cfg.features.buckets();
    let embedding = Var::from_tensor(&uniform(rng, (buckets, cfg.dim), 1.0 / cfg.dim as f32)?)?;
    let weight = Var::from_tensor(&uniform(rng, (cfg.dim, 5), 1.0 / (cfg.dim as f32).sqrt())?)?;
    let bias = Var::from_tensor(&Tensor::zeros(5, DType::F32, &Device::Cpu)?)?;
    let mut opt = AdamW::new(
        vec![embedding.clone(), weight.clone(), bias.clone()],
        ParamsAdamW {
            lr: cfg.learning_rate,
            weight_decay: cfg.weight_decay,
            ..ParamsAdamW::default()
        },
    )?;
    let total = steps(cfg, bags.len()).max(1);
    let mut order: Vec<usize> = (0..bags.len()).collect();
    let mut done = 0usize;
    for _ in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for chunk in order.chunks(cfg.batch_size) {
            // Linear decay of the learning rate to a tenth of its start.
            let frac = done as f64 / total as f64;
            opt.set_learning_rate(cfg.learning_rate * (1.0 - 0.9 * frac));
            let dropped: Vec<Bag>;
            let batch: Vec<&Bag> = if cfg.feature_dropout > 0.0 {
                dropped = chunk
                    .iter()
                    .map(|&i| drop_features(bags[i], cfg.feature_dropout, rng))
                    .collect();
                dropped.iter().collect()
            } else {
                chunk.iter().map(|&i| bags[i]).collect()
            };
            let target: Vec<u32> = chunk.iter().map(|&i| labels[i]).collect();
            let target = Tensor::from_vec(target, chunk.len(), &Device::Cpu)?;
            let params = Params {
                embedding: embedding.as_tensor().clone(),
                weight: weight.as_tensor().clone(),
                bias: bias.as_tensor().clone(),
            };
            let logits = params.logits_autograd(&batch)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &target)?;
            opt.backward_step(&loss)?;
            done += 1;
            progress.step();
        }
    }
    Ok(Params {
        embedding: embedding.as_tensor().detach(),
        weight: weight.as_tensor().detach(),
        bias: bias.as_tensor().detach(),
    })
}

/// A copy of `bag` without a random share `p` of its features, weights renormalised (a bag
/// never loses all of them).
fn drop_features(bag: &Bag, p: f32, rng: &mut SplitMix64) -> Bag {
    let mut out = Bag::default();
    for (&id, &w) in bag.ids.iter().zip(&bag.weights) {
        if rng.next_f32() >= p {
            out.ids.push(id);
            out.weights.push(w);
        }
    }
    let total: f32 = out.weights.iter().sum();
    if total <= 0.0 {
        return bag.clone();
    }
    for w in &mut out.weights {
        *w /= total;
    }
    out
}

/// Logits of `bags` in batches.
pub fn logits(params: &Params, bags: &[&Bag]) -> Result<Vec<[f32; 5]>, ClassifierError> {
    let mut out = Vec::with_capacity(bags.len());
    for chunk in bags.chunks(256) {
        out.extend(to_rows(&params.logits(chunk)?)?);
    }
    Ok(out)
}

/// Fold of each example: stratified by label, shuffled by `rng`.
pub fn stratified_folds(labels: &[u32], folds: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let mut fold = vec![0usize; labels.len()];
    for l in 0..LABELS.len() as u32 {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == l).collect();
        rng.shuffle(&mut idx);
        for (k, i) in idx.into_iter().enumerate() {
            fold[i] = k % folds;
        }
    }
    fold
}

/// What a training run produces besides the model.
#[derive(Debug)]
pub struct TrainOutcome {
    pub model: NgramModel,
    /// Out-of-fold logits of every training example (cross-validation).
    pub oof_logits: Vec<[f32; 5]>,
}

/// Cross-validates, calibrates and fits the final model.
pub fn train(
    cfg: &TrainConfig,
    bags: &[Bag],
    labels: &[u32],
    data_hash: &str,
    progress: &dyn Progress,
) -> Result<TrainOutcome, ClassifierError> {
    if bags.len() != labels.len() || bags.is_empty() {
        return Err(ClassifierError::Training(format!(
            "{} bags for {} labels",
            bags.len(),
            labels.len()
        )));
    }
    if cfg.folds < 2 {
        return Err(ClassifierError::Training("folds must be at least 2".into()));
    }
    cfg.features.validate().map_err(ClassifierError::Training)?;
    let mut rng = SplitMix64::new(cfg.seed);
    let fold = stratified_folds(labels, cfg.folds, &mut rng);
    let per_fold: usize = (0..cfg.folds)
        .map(|k| steps(cfg, fold.iter().filter(|f| **f != k).count()))
        .sum();
    progress.set_total((per_fold + steps(cfg, bags.len())) as u64);
    let mut oof = vec![[0f32; 5]; bags.len()];
    for k in 0..cfg.folds {
        let (train_idx, held): (Vec<usize>, Vec<usize>) =
            (0..bags.len()).partition(|&i| fold[i] != k);
        let tb: Vec<&Bag> = train_idx.iter().map(|&i| &bags[i]).collect();
        let tl: Vec<u32> = train_idx.iter().map(|&i| labels[i]).collect();
        let params = fit(cfg, &tb, &tl, &mut rng, progress)?;
        let hb: Vec<&Bag> = held.iter().map(|&i| &bags[i]).collect();
        for (i, z) in held.iter().zip(logits(&params, &hb)?) {
            oof[*i] = z;
        }
    }
    let truth: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
    let temperature = fit_temperature(&oof, &truth);
    let probs = calibrated(&oof, temperature);
    let thresholds = fit_thresholds(&probs, &truth, cfg.max_benign_fpr);
    let all: Vec<&Bag> = bags.iter().collect();
    let params = fit(cfg, &all, labels, &mut rng, progress)?;
    let config = ModelConfig {
        name: cfg.name.clone(),
        version: String::new(),
        architecture: ARCHITECTURE.into(),
        labels: LABELS.iter().map(|s| s.to_string()).collect(),
        features: cfg.features.clone(),
        views: vec!["nfkc-lowercase".into(), "nfkc-lowercase-no-marks-d".into()],
        dim: cfg.dim,
        temperature,
        thresholds: LABELS[..BENIGN]
            .iter()
            .zip(thresholds)
            .map(|(l, t)| (l.to_string(), t))
            .collect::<BTreeMap<_, _>>(),
        training: TrainingInfo {
            seed: cfg.seed,
            data_hash: data_hash.to_string(),
            examples: bags.len(),
            epochs: cfg.epochs,
            batch_size: cfg.batch_size,
            learning_rate: cfg.learning_rate,
            weight_decay: cfg.weight_decay,
            folds: cfg.folds,
            max_benign_fpr: cfg.max_benign_fpr,
            feature_dropout: cfg.feature_dropout,
        },
    };
    Ok(TrainOutcome {
        model: NgramModel::new(config, params)?,
        oof_logits: oof,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_the_reference_sequence() {
        // First outputs for seed 1234567 from the reference implementation.
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
    }

    #[test]
    fn folds_are_stratified() {
        let labels: Vec<u32> = (0..100).map(|i| (i % 5) as u32).collect();
        let f = stratified_folds(&labels, 5, &mut SplitMix64::new(1));
        for k in 0..5 {
            for l in 0..5u32 {
                let n = (0..100).filter(|&i| f[i] == k && labels[i] == l).count();
                assert_eq!(n, 4);
            }
        }
    }
}
