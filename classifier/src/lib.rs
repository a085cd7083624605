//! Text classification of crawled items into scam types.
//!
//! [`Classifier`] is the seam the pipeline depends on: batch scoring, five labels, a
//! probability per label and the phrases that drove the score. [`rules::KeywordRules`] is
//! the transparent baseline (weighted cue phrases matched with and without Vietnamese
//! diacritics); trained models implement the same trait and are compared against it.

pub mod fold;
pub mod rules;

use serde::Serialize;

/// The label set, in a fixed order used by probability vectors.
pub const LABELS: [&str; 5] = [
    "investment_fraud",
    "job_scam",
    "impersonation",
    "other_fraud",
    "benign",
];

/// Index of `benign` in [`LABELS`].
pub const BENIGN: usize = 4;

/// One text to score.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub title: Option<&'a str>,
    pub text: &'a str,
}

/// A phrase that moved the score, with its byte range in the input text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    pub phrase: String,
    pub start: usize,
    pub end: usize,
    pub label: &'static str,
    pub weight: f32,
}

/// The verdict on one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub label: &'static str,
    /// Probability per label, in [`LABELS`] order; sums to 1.
    pub probabilities: [f32; 5],
    pub spans: Vec<Span>,
}

impl Prediction {
    /// Probability of the predicted label.
    pub fn score(&self) -> f32 {
        let i = LABELS
            .iter()
            .position(|l| *l == self.label)
            .unwrap_or(BENIGN);
        self.probabilities[i]
    }

    /// Probability that the input is any kind of fraud.
    pub fn fraud_probability(&self) -> f32 {
        1.0 - self.probabilities[BENIGN]
    }

    pub fn probabilities_json(&self) -> serde_json::Value {
        LABELS
            .iter()
            .zip(self.probabilities)
            .map(|(l, p)| ((*l).to_string(), serde_json::json!(p)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    #[error("classifier failed: {0}")]
    Failed(String),
}

/// Anything that scores texts.
pub trait Classifier: Send + Sync {
    /// Short model name, stored with every classification.
    fn name(&self) -> &str;
    /// Model version, stored with every classification.
    fn version(&self) -> &str;
    /// Scores a batch; the result has one prediction per input, in order.
    fn classify_batch(&self, inputs: &[Input<'_>]) -> Result<Vec<Prediction>, ClassifierError>;
}
