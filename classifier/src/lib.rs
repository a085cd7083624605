//! Text classification of crawled items into scam types.
//!
//! [`Classifier`] is the seam the pipeline depends on: batch scoring, five labels, a
//! probability per label and the phrases that drove the score. [`ngram::NgramModel`] is the
//! trained model (hashed syllable and character n-grams on two views of the text, an
//! embedding bag and a linear layer in candle; [`train`] builds it from the project's own
//! corpus in `classifier/data/`). [`rules::KeywordRules`] is the transparent baseline every
//! evaluation reports beside it.

pub mod calibrate;
pub mod card;
pub mod corpus;
pub mod evaluate;
pub mod features;
pub mod fold;
pub mod metrics;
pub mod ngram;
pub mod rules;
pub mod stream;
pub mod text;
pub mod train;

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

/// A phrase that moved the score, with its range in the input text counted in characters
/// (Unicode scalar values), so a browser can highlight it without knowing UTF-8.
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
    #[error("model: {0}")]
    Model(String),
    #[error("training data: {0}")]
    Data(String),
    #[error("training: {0}")]
    Training(String),
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// Anything that scores texts.
pub trait Classifier: Send + Sync {
    /// Short model name, stored with every classification.
    fn name(&self) -> &str;
    /// Model version, stored with every classification.
    fn version(&self) -> &str;
    /// Scores a batch; the result has one prediction per input, in order. With `explain`
    /// each prediction carries the phrases that drove it (costs a second feature pass).
    fn classify_batch(
        &self,
        inputs: &[Input<'_>],
        explain: bool,
    ) -> Result<Vec<Prediction>, ClassifierError>;

    /// `name@version`, as recorded with every classification.
    fn id(&self) -> String {
        format!("{}@{}", self.name(), self.version())
    }
}

/// Directory name of the model that ships in the repository's `models/`.
pub const DEFAULT_MODEL: &str = "ngram-vi";
/// `--model` value that selects the keyword-rules baseline instead of a trained model.
pub const RULES_MODEL: &str = "keyword-rules";

/// The shipped model's directory: `models/ngram-vi` under the working directory when it
/// exists there, else the one in the source tree this binary was built from.
pub fn default_model_dir() -> std::path::PathBuf {
    let local = std::path::Path::new("models").join(DEFAULT_MODEL);
    if local.join("config.json").is_file() {
        return local;
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("models")
        .join(DEFAULT_MODEL)
}

/// Loads the classifier `model` names: a model directory, [`RULES_MODEL`], or (None) the
/// shipped default.
pub fn load_classifier(
    model: Option<&std::path::Path>,
) -> Result<std::sync::Arc<dyn Classifier>, ClassifierError> {
    if model.is_some_and(|m| m.as_os_str() == RULES_MODEL) {
        return Ok(std::sync::Arc::new(rules::KeywordRules::new()));
    }
    let dir = model.map_or_else(default_model_dir, std::path::Path::to_path_buf);
    Ok(std::sync::Arc::new(ngram::NgramModel::load(&dir)?))
}
