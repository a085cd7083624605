//! Evaluation of any [`Classifier`] on labelled examples, batched, with the figures of
//! [`crate::metrics`] overall and per language group.

use crate::corpus::Example;
use crate::metrics::{Report, report};
use crate::{Classifier, ClassifierError, Input, LABELS};

/// Predictions of `classifier` on `examples`: probabilities and label indices.
pub fn predict_all(
    classifier: &dyn Classifier,
    examples: &[Example],
) -> Result<(Vec<[f32; 5]>, Vec<usize>), ClassifierError> {
    let mut probs = Vec::with_capacity(examples.len());
    let mut preds = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(256) {
        let inputs: Vec<Input<'_>> = chunk
            .iter()
            .map(|e| Input {
                title: None,
                text: &e.text,
            })
            .collect();
        for p in classifier.classify_batch(&inputs, false)? {
            preds.push(
                LABELS
                    .iter()
                    .position(|l| *l == p.label)
                    .unwrap_or(crate::BENIGN),
            );
            probs.push(p.probabilities);
        }
    }
    Ok((probs, preds))
}

/// Evaluates `classifier` on `examples`.
pub fn evaluate(
    classifier: &dyn Classifier,
    examples: &[Example],
) -> Result<Report, ClassifierError> {
    let (probs, preds) = predict_all(classifier, examples)?;
    Ok(report_for(examples, &probs, &preds))
}

/// The report for predictions already made on `examples`.
pub fn report_for(examples: &[Example], probs: &[[f32; 5]], preds: &[usize]) -> Report {
    let truth: Vec<usize> = examples.iter().map(Example::label_index).collect();
    let groups: Vec<String> = examples.iter().map(|e| e.group().to_string()).collect();
    report(probs, preds, &truth, &groups)
}
