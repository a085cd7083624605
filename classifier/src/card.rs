//! The model card (`README.md` of a model directory) and `eval.json`: what the model was
//! trained on, how it scores under cross-validation and on the held-out test split, how well
//! its probabilities are calibrated, and what it is known to get wrong.

use std::fmt::Write as _;

use serde::Serialize;

use crate::LABELS;
use crate::corpus::Stats;
use crate::metrics::{Report, Summary};
use crate::ngram::ModelConfig;

/// Everything `eval.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct EvalFile {
    pub model: String,
    pub data_hash: String,
    pub train: Stats,
    /// Out-of-fold predictions of the cross-validation (calibrated, with the thresholds).
    pub cross_validation: Report,
    /// The held-out test split, when one was given.
    pub test: Option<TestEval>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestEval {
    pub data_hash: String,
    pub stats: Stats,
    pub model: Report,
    pub rules_baseline: Report,
    /// Test examples the model got wrong (id, truth, predicted), for the card.
    pub errors: Vec<(String, String, String)>,
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Markdown table of a confusion matrix.
pub fn confusion_table(s: &Summary) -> String {
    let mut out = String::from("| truth \\ predicted |");
    for l in LABELS {
        let _ = write!(out, " {l} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(5));
    out.push('\n');
    for (t, row) in s.confusion.iter().enumerate() {
        let _ = write!(out, "| {} |", LABELS[t]);
        for v in row {
            let _ = write!(out, " {v} |");
        }
        out.push('\n');
    }
    out
}

/// Markdown table of per-class figures.
pub fn class_table(s: &Summary) -> String {
    let mut out =
        String::from("| label | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n");
    for c in &s.per_class {
        let _ = writeln!(
            out,
            "| {} | {:.3} | {:.3} | {:.3} | {} |",
            c.label, c.precision, c.recall, c.f1, c.support
        );
    }
    out
}

/// One-line-per-slice summary table.
pub fn summary_table(rows: &[(&str, &Summary)]) -> String {
    let mut out = String::from(
        "| slice | examples | macro-F1 | accuracy | scam recall | benign FPR | scam recall @ 1 % FPR | ECE |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (name, s) in rows {
        let _ = writeln!(
            out,
            "| {name} | {} | {:.3} | {:.3} | {} | {} | {} | {:.3} |",
            s.examples,
            s.macro_f1,
            s.accuracy,
            pct(s.detection.recall),
            pct(s.detection.false_positive_rate),
            pct(s.detection.recall_at_1pct_fpr),
            s.ece
        );
    }
    out
}

fn rows(r: &Report) -> Vec<(&str, &Summary)> {
    let mut v = vec![("all", &r.overall)];
    for (g, s) in &r.groups {
        v.push((g.as_str(), s));
    }
    v
}

fn counts(title: &str, m: &std::collections::BTreeMap<String, usize>) -> String {
    let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!("- {title}: {}\n", parts.join(", "))
}

/// The model card.
pub fn render(config: &ModelConfig, eval: &EvalFile, train_seconds: f64) -> String {
    let mut o = String::new();
    let t = &config.training;
    let _ = writeln!(o, "# {}@{}\n", config.name, config.version);
    let _ = writeln!(
        o,
        "A scam-type classifier for Vietnamese-first online text (`investment_fraud`, `job_scam`, \
         `impersonation`, `other_fraud`, `benign`). Architecture `{}`: hashed syllable 1–{}-grams and \
         character {}–{}-grams on two views of the text (NFKC lower case with diacritics; the same \
         with diacritics removed and đ→d), {} buckets, an embedding bag of dimension {} and a linear \
         layer, trained in candle with AdamW. Probabilities are temperature-scaled (T = {:.3}); a \
         fraud label needs its per-class threshold, otherwise the label is `benign`.\n",
        config.architecture,
        config.features.word_ngrams,
        config.features.char_ngrams[0],
        config.features.char_ngrams[1],
        config.features.buckets(),
        config.dim,
        config.temperature,
    );
    o.push_str("## Training\n\n");
    let _ = writeln!(
        o,
        "- data: {} examples, SHA-256 `{}`\n- seed {}, {} epochs, batch {}, learning rate {} (linear decay to a tenth), weight decay {}\n- temperature and thresholds fitted on {}-fold out-of-fold predictions, thresholds capped at {} benign false alarms\n- training took {:.0} s on this machine (cross-validation included)",
        t.examples,
        t.data_hash,
        t.seed,
        t.epochs,
        t.batch_size,
        t.learning_rate,
        t.weight_decay,
        t.folds,
        pct(t.max_benign_fpr),
        train_seconds
    );
    let th: Vec<String> = config
        .thresholds
        .iter()
        .map(|(k, v)| format!("{k} {v:.2}"))
        .collect();
    let _ = writeln!(o, "- thresholds: {}\n", th.join(", "));
    o.push_str("### Training data\n\n");
    let s = &eval.train;
    o.push_str(&counts("labels", &s.by_label));
    o.push_str(&counts(
        "groups (en, vi with diacritics, vi without)",
        &s.by_group,
    ));
    o.push_str(&counts("channels", &s.by_channel));
    o.push_str(&counts("lengths", &s.by_length));
    let _ = writeln!(
        o,
        "- English share {}, template share {} (largest single template {})\n",
        pct(s.english_share),
        pct(s.template_share),
        pct(s.largest_template_share)
    );
    o.push_str("## Cross-validation (out-of-fold, training data)\n\n");
    o.push_str(&summary_table(&rows(&eval.cross_validation)));
    o.push('\n');
    if let Some(test) = &eval.test {
        let _ = writeln!(
            o,
            "## Held-out test split\n\n{} examples written independently of the training data \
             (SHA-256 `{}`); never read by training or tuning.\n",
            test.stats.examples, test.data_hash
        );
        o.push_str("### This model\n\n");
        o.push_str(&summary_table(&rows(&test.model)));
        o.push('\n');
        o.push_str(&class_table(&test.model.overall));
        o.push('\n');
        o.push_str(&confusion_table(&test.model.overall));
        o.push_str("\n### Rules baseline (`keyword-rules`) on the same split\n\n");
        o.push_str(&summary_table(&rows(&test.rules_baseline)));
        o.push('\n');
        o.push_str(&confusion_table(&test.rules_baseline.overall));
        o.push_str("\n### Calibration\n\n");
        let _ = writeln!(
            o,
            "Expected calibration error (15 bins) on the test split: {:.3}; Brier score {:.3}. \
             Cross-validation: ECE {:.3}, Brier {:.3}.\n",
            test.model.overall.ece,
            test.model.overall.brier,
            eval.cross_validation.overall.ece,
            eval.cross_validation.overall.brier
        );
        let _ = writeln!(o, "### Errors on the test split ({})\n", test.errors.len());
        for (id, truth, pred) in test.errors.iter().take(40) {
            let _ = writeln!(o, "- `{id}`: {truth} → {pred}");
        }
        o.push('\n');
    }
    o.push_str(KNOWN_WEAKNESSES);
    o
}

const KNOWN_WEAKNESSES: &str = "## Known weaknesses\n\n\
- It knows words, not meaning: a scam reworded without the corpus's vocabulary, or a legitimate text that \
borrows it heavily, can be misread. Police and bank warnings that quote scam phrases are the hardest \
benign texts; news and warnings are in the training data for that reason.\n\
- The corpus was written by this project (see `classifier/data/README.md`); real crawled text is \
noisier (menus, boilerplate, mixed languages) and its label mix is different, so thresholds may need \
tuning on reviewed data.\n\
- Text in images (screenshots, QR codes) is invisible to it.\n\
- `other_fraud` is a mixed class (shops, loans, prizes, romance, recovery, charity, bookings, account \
trading) and is the easiest to confuse with the others.\n\
- Probabilities are calibrated on the training corpus's label mix; on a crawl where scams are rarer, \
precision is lower than the figures above.\n";
