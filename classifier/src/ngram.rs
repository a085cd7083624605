//! The n-gram model: an embedding bag over hashed features ([`crate::features`]) and a
//! linear layer to the five labels, in candle; its files (`model.safetensors`, `config.json`)
//! and its explanations.
//!
//! A document's vector is the weighted mean of the embedding rows of its features; logits are
//! `doc · W + b`; probabilities are `softmax(logits / T)` with the temperature fitted at
//! training time. Because the layer is linear, each feature's share of a logit is exact
//! (`weight · E[f] · W[:, c]`), which is what the explanations report, summed per syllable.
//! The label is the most probable fraud class whose probability reaches its threshold
//! (thresholds are per class, in the config), otherwise `benign`.

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::features::{Bag, FeatureConfig, Featurizer, for_each_feature};
use crate::{BENIGN, Classifier, ClassifierError, Input, LABELS, Prediction, Span};

/// Tensor names in `model.safetensors`.
pub const EMBEDDING: &str = "embedding";
pub const WEIGHT: &str = "linear.weight";
pub const BIAS: &str = "linear.bias";

/// How the model was trained; part of `config.json` so a run can be reproduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    pub seed: u64,
    /// SHA-256 of the training data (see `corpus::data_hash`).
    pub data_hash: String,
    pub examples: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Folds of the cross-validation that fitted temperature and thresholds.
    pub folds: usize,
    /// Cap on the out-of-fold share of benign examples the thresholds may flag.
    pub max_benign_fpr: f64,
    /// Share of features dropped at random from each training document.
    pub feature_dropout: f32,
}

/// `config.json` of a model directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub name: String,
    /// First 12 hex digits of the SHA-256 of `model.safetensors`.
    pub version: String,
    pub architecture: String,
    pub labels: Vec<String>,
    pub features: FeatureConfig,
    pub views: Vec<String>,
    pub dim: usize,
    pub temperature: f32,
    /// Probability a fraud class needs to be the label.
    pub thresholds: BTreeMap<String, f32>,
    pub training: TrainingInfo,
}

pub const ARCHITECTURE: &str = "hashed-ngram-embedding-bag-linear";

impl ModelConfig {
    pub fn validate(&self) -> Result<(), ClassifierError> {
        let bad = |m: String| Err(ClassifierError::Model(m));
        if self.architecture != ARCHITECTURE {
            return bad(format!("unknown architecture {:?}", self.architecture));
        }
        if self.labels != LABELS {
            return bad(format!("labels {:?} are not {:?}", self.labels, LABELS));
        }
        self.features.validate().map_err(ClassifierError::Model)?;
        if self.dim == 0 || self.dim > 1024 {
            return bad(format!("dim {} is outside 1..=1024", self.dim));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad(format!("temperature {} is not positive", self.temperature));
        }
        for l in &LABELS[..BENIGN] {
            match self.thresholds.get(*l) {
                Some(t) if (0.0..=1.0).contains(t) => {}
                other => return bad(format!("threshold for {l} is {other:?}")),
            }
        }
        Ok(())
    }

    /// Thresholds in label order (benign's is unused and 0).
    pub fn threshold_array(&self) -> [f32; 5] {
        let mut t = [0f32; 5];
        for (i, l) in LABELS.iter().enumerate().take(BENIGN) {
            t[i] = self.thresholds.get(*l).copied().unwrap_or(0.5);
        }
        t
    }
}

/// The parameters: embedding table `[buckets, dim]`, weight `[dim, 5]`, bias `[5]`.
#[derive(Debug, Clone)]
pub struct Params {
    pub embedding: Tensor,
    pub weight: Tensor,
    pub bias: Tensor,
}

impl Params {
    /// Logits `[bags.len(), 5]` for inference. The embedding bag is summed straight from the
    /// table's storage (one pass, no `[features, dim]` intermediate, which candle's
    /// `index_select` would build row by row); the linear layer is candle's matmul. Agrees with
    /// [`Params::logits_autograd`] up to float rounding (tested).
    pub fn logits(&self, bags: &[&Bag]) -> candle_core::Result<Tensor> {
        let dev = self.embedding.device();
        let (buckets, dim) = self.embedding.dims2()?;
        let mut docs = vec![0f32; bags.len() * dim];
        {
            let (storage, layout) = self.embedding.storage_and_layout();
            let table = match (&*storage, layout.contiguous_offsets()) {
                (candle_core::Storage::Cpu(cpu), Some((start, end))) => {
                    &cpu.as_slice::<f32>()?[start..end]
                }
                _ => return self.logits_autograd(bags),
            };
            for (doc, bag) in docs.chunks_exact_mut(dim).zip(bags) {
                for (&id, &w) in bag.ids.iter().zip(&bag.weights) {
                    let id = id as usize;
                    if id >= buckets {
                        return Err(candle_core::Error::Msg(format!(
                            "feature bucket {id} outside the table of {buckets}"
                        )));
                    }
                    let row = &table[id * dim..(id + 1) * dim];
                    for (d, r) in doc.iter_mut().zip(row) {
                        *d += w * r;
                    }
                }
            }
        }
        Tensor::from_vec(docs, (bags.len(), dim), dev)?
            .matmul(&self.weight)?
            .broadcast_add(&self.bias)
    }

    /// Logits built from differentiable candle ops (`index_select`, `index_add`), for
    /// training.
    pub fn logits_autograd(&self, bags: &[&Bag]) -> candle_core::Result<Tensor> {
        let dev = self.embedding.device();
        let dim = self.embedding.dim(1)?;
        let total: usize = bags.iter().map(|b| b.ids.len()).sum();
        let docs = if total == 0 {
            Tensor::zeros((bags.len(), dim), DType::F32, dev)?
        } else {
            let mut ids = Vec::with_capacity(total);
            let mut weights = Vec::with_capacity(total);
            let mut seg = Vec::with_capacity(total);
            for (i, b) in bags.iter().enumerate() {
                ids.extend_from_slice(&b.ids);
                weights.extend_from_slice(&b.weights);
                seg.extend(std::iter::repeat_n(i as u32, b.ids.len()));
            }
            let ids = Tensor::from_vec(ids, total, dev)?;
            let weights = Tensor::from_vec(weights, (total, 1), dev)?;
            let seg = Tensor::from_vec(seg, total, dev)?;
            let rows = self
                .embedding
                .index_select(&ids, 0)?
                .broadcast_mul(&weights)?;
            Tensor::zeros((bags.len(), dim), DType::F32, dev)?.index_add(&seg, &rows, 0)?
        };
        docs.matmul(&self.weight)?.broadcast_add(&self.bias)
    }
}

/// Softmax of `logits / temperature`, row by row.
pub fn calibrated(logits: &[[f32; 5]], temperature: f32) -> Vec<[f32; 5]> {
    logits.iter().map(|z| softmax(z, temperature)).collect()
}

pub fn softmax(z: &[f32; 5], temperature: f32) -> [f32; 5] {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut p = [0f32; 5];
    let mut sum = 0f32;
    for (o, v) in p.iter_mut().zip(z) {
        *o = ((v - max) / temperature).exp();
        sum += *o;
    }
    for o in &mut p {
        *o /= sum;
    }
    p
}

/// The label for calibrated probabilities: the most probable fraud class at or above its
/// threshold, else benign.
pub fn decide(p: &[f32; 5], thresholds: &[f32; 5]) -> usize {
    (0..BENIGN)
        .filter(|&c| p[c] >= thresholds[c])
        .max_by(|a, b| p[*a].total_cmp(&p[*b]))
        .unwrap_or(BENIGN)
}

pub fn to_rows(t: &Tensor) -> candle_core::Result<Vec<[f32; 5]>> {
    Ok(t.to_vec2::<f32>()?
        .into_iter()
        .map(|r| {
            let mut a = [0f32; 5];
            a.copy_from_slice(&r[..5]);
            a
        })
        .collect())
}

/// Most phrases reported per prediction.
pub const MAX_PHRASES: usize = 6;
/// Longest phrase, in syllables.
const MAX_PHRASE_TOKENS: usize = 4;

/// A loaded model.
#[derive(Debug)]
pub struct NgramModel {
    pub config: ModelConfig,
    params: Params,
    thresholds: [f32; 5],
}

impl NgramModel {
    pub fn new(config: ModelConfig, params: Params) -> Result<Self, ClassifierError> {
        config.validate()?;
        let want = [config.features.buckets(), config.dim];
        if params.embedding.dims() != want
            || params.weight.dims() != [config.dim, 5]
            || params.bias.dims() != [5]
        {
            return Err(ClassifierError::Model(format!(
                "tensor shapes {:?} {:?} {:?} do not match the config ({want:?}, [{}, 5], [5])",
                params.embedding.dims(),
                params.weight.dims(),
                params.bias.dims(),
                config.dim
            )));
        }
        let thresholds = config.threshold_array();
        Ok(NgramModel {
            config,
            params,
            thresholds,
        })
    }

    /// Loads `config.json` and `model.safetensors` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ClassifierError> {
        let io = |what: &str, e: String| {
            ClassifierError::Model(format!("{}: {what}: {e}", dir.display()))
        };
        let raw = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| io("config.json", e.to_string()))?;
        let config: ModelConfig =
            serde_json::from_str(&raw).map_err(|e| io("config.json", e.to_string()))?;
        let mut tensors =
            candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu)
                .map_err(|e| io("model.safetensors", e.to_string()))?;
        let mut take = |name: &str| {
            tensors
                .remove(name)
                .ok_or_else(|| io("model.safetensors", format!("tensor {name} is missing")))
                .and_then(|t| {
                    t.to_dtype(DType::F32)
                        .map_err(|e| io("model.safetensors", e.to_string()))
                })
        };
        let params = Params {
            embedding: take(EMBEDDING)?,
            weight: take(WEIGHT)?,
            bias: take(BIAS)?,
        };
        Self::new(config, params)
    }

    /// Writes `model.safetensors` and `config.json` (with the version filled in from the
    /// weights' hash) into `dir`.
    pub fn save(&mut self, dir: &Path) -> Result<(), ClassifierError> {
        let err = |e: String| ClassifierError::Model(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        let path = dir.join("model.safetensors");
        let map: std::collections::HashMap<String, Tensor> = [
            (EMBEDDING.to_string(), self.params.embedding.clone()),
            (WEIGHT.to_string(), self.params.weight.clone()),
            (BIAS.to_string(), self.params.bias.clone()),
        ]
        .into();
        candle_core::safetensors::save(&map, &path).map_err(|e| err(e.to_string()))?;
        let bytes = std::fs::read(&path).map_err(|e| err(e.to_string()))?;
        self.config.version = weights_version(&bytes);
        let json = serde_json::to_string_pretty(&self.config).map_err(|e| err(e.to_string()))?;
        std::fs::write(dir.join("config.json"), json + "\n").map_err(|e| err(e.to_string()))?;
        Ok(())
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Raw logits for a batch of bags.
    pub fn logits(&self, bags: &[&Bag]) -> Result<Vec<[f32; 5]>, ClassifierError> {
        let t = self.params.logits(bags)?;
        Ok(to_rows(&t)?)
    }

    /// Bags of a batch of inputs.
    pub fn bags(&self, featurizer: &mut Featurizer, inputs: &[Input<'_>]) -> Vec<Bag> {
        inputs
            .iter()
            .map(|i| featurizer.bag(&self.config.features, &segments(i)))
            .collect()
    }

    /// Predictions for a batch; with `explain`, each carries its top phrases.
    pub fn predict(
        &self,
        inputs: &[Input<'_>],
        explain: bool,
    ) -> Result<Vec<Prediction>, ClassifierError> {
        thread_local! {
            static FEATURIZER: std::cell::RefCell<Featurizer> = Default::default();
        }
        FEATURIZER.with_borrow_mut(|featurizer| self.predict_with(featurizer, inputs, explain))
    }

    fn predict_with(
        &self,
        featurizer: &mut Featurizer,
        inputs: &[Input<'_>],
        explain: bool,
    ) -> Result<Vec<Prediction>, ClassifierError> {
        let bags = self.bags(featurizer, inputs);
        let refs: Vec<&Bag> = bags.iter().collect();
        let logits = self.logits(&refs)?;
        let mut out = Vec::with_capacity(inputs.len());
        for ((input, bag), z) in inputs.iter().zip(&bags).zip(&logits) {
            let probabilities = softmax(z, self.config.temperature);
            let label = decide(&probabilities, &self.thresholds);
            let spans = if explain {
                self.explain(featurizer, input, bag, label)?
            } else {
                Vec::new()
            };
            out.push(Prediction {
                label: LABELS[label],
                probabilities,
                spans,
            });
        }
        Ok(out)
    }

    /// The phrases of the text (not the title) that pushed `label` up most, relative to the
    /// mean of all labels.
    fn explain(
        &self,
        featurizer: &mut Featurizer,
        input: &Input<'_>,
        bag: &Bag,
        label: usize,
    ) -> Result<Vec<Span>, ClassifierError> {
        if bag.ids.is_empty() {
            return Ok(Vec::new());
        }
        // Per bucket: E[f] · (W[:, label] - mean_k W[:, k]).
        let w = &self.params.weight;
        let direction = (w.narrow(1, label, 1)? - w.mean_keepdim(1)?)?;
        let ids = Tensor::from_slice(&bag.ids, bag.ids.len(), &Device::Cpu)?;
        let push: Vec<f32> = self
            .params
            .embedding
            .index_select(&ids, 0)?
            .matmul(&direction)?
            .flatten_all()?
            .to_vec1()?;
        let segs = segments(input);
        let text_segment = (segs.len() - 1) as u8;
        let tokens = featurizer.tokenize(&segs).clone();
        let mut total = 0f32;
        for_each_feature(&self.config.features, &tokens, |_, _, w| total += w);
        let mut score = vec![0f32; tokens.tokens.len()];
        let positions = bag.positions();
        for_each_feature(&self.config.features, &tokens, |b, origin, w| {
            if let Some(&i) = positions.get(&b) {
                let s = push[i] * w / total / origin.len as f32;
                for t in &mut score[origin.first..origin.first + origin.len] {
                    *t += s;
                }
            }
        });
        // Phrases: runs of adjacent positive tokens, at most MAX_PHRASE_TOKENS long.
        let mut phrases: Vec<(usize, usize, f32)> = Vec::new();
        let mut i = 0;
        while i < tokens.tokens.len() {
            if score[i] <= 0.0 || tokens.tokens[i].segment != text_segment {
                i += 1;
                continue;
            }
            let start = i;
            let mut sum = 0.0;
            while i < tokens.tokens.len()
                && i - start < MAX_PHRASE_TOKENS
                && score[i] > 0.0
                && tokens.tokens[i].segment == text_segment
            {
                sum += score[i];
                i += 1;
            }
            phrases.push((start, i, sum));
        }
        phrases.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        phrases.truncate(MAX_PHRASES);
        let text = segs[text_segment as usize];
        let mut spans = Vec::with_capacity(phrases.len());
        for (first, end, weight) in phrases {
            let start = tokens.tokens[first].chars.start;
            let stop = tokens.tokens[end - 1].chars.end;
            spans.push(Span {
                phrase: text.chars().skip(start).take(stop - start).collect(),
                start,
                end: stop,
                label: LABELS[label],
                weight,
            });
        }
        Ok(spans)
    }
}

/// The segments the model reads: the title (when there is one) and the text.
fn segments<'a>(input: &Input<'a>) -> Vec<&'a str> {
    match input.title {
        Some(t) if !t.trim().is_empty() => vec![t, input.text],
        _ => vec![input.text],
    }
}

/// The model version derived from the weights file.
pub fn weights_version(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))[..12].to_string()
}

impl Classifier for NgramModel {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn version(&self) -> &str {
        &self.config.version
    }

    fn classify_batch(
        &self,
        inputs: &[Input<'_>],
        explain: bool,
    ) -> Result<Vec<Prediction>, ClassifierError> {
        self.predict(inputs, explain)
    }
}
