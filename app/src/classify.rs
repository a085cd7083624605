//! The classifier commands: `train` (corpus → model directory with card and eval.json),
//! `classify` (JSONL stream or one `--text`), and `eval` (a labelled file against the model
//! and the rules baseline).

use std::io::{BufReader, BufWriter, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use scamsweep_classifier::card::{self, EvalFile, TestEval};
use scamsweep_classifier::corpus::{self, Example};
use scamsweep_classifier::evaluate::{evaluate, predict_all, report_for};
use scamsweep_classifier::features::{Bag, FeatureConfig, Featurizer};
use scamsweep_classifier::metrics::Report;
use scamsweep_classifier::ngram::NgramModel;
use scamsweep_classifier::rules::KeywordRules;
use scamsweep_classifier::train::{Progress, TrainConfig, train};
use scamsweep_classifier::{Classifier, Input, LABELS, calibrate, load_classifier};

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training data: a JSONL file or a directory of them (`classifier/data/train`).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// Output model directory (`models/<name>`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Held-out test data to report in the card and eval.json (read only after the model
    /// is final; nothing is tuned on it).
    #[arg(long, value_name = "PATH")]
    pub eval: Option<PathBuf>,
    /// Model name (default: the output directory's name).
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    pub seed: u64,
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    pub epochs: usize,
    #[arg(long, default_value_t = TrainConfig::default().dim)]
    pub dim: usize,
    #[arg(long, default_value_t = FeatureConfig::default().buckets_log2)]
    pub buckets_log2: u32,
    #[arg(long, default_value_t = TrainConfig::default().learning_rate)]
    pub lr: f64,
    #[arg(long, default_value_t = TrainConfig::default().batch_size)]
    pub batch_size: usize,
    #[arg(long, default_value_t = TrainConfig::default().weight_decay)]
    pub weight_decay: f64,
    #[arg(long, default_value_t = TrainConfig::default().folds)]
    pub folds: usize,
    /// Most benign examples (share, out-of-fold) the fitted thresholds may flag.
    #[arg(long, default_value_t = TrainConfig::default().max_benign_fpr)]
    pub max_benign_fpr: f64,
    /// Share of a training document's features dropped at random each epoch.
    #[arg(long, default_value_t = TrainConfig::default().feature_dropout)]
    pub feature_dropout: f32,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn set_total(&self, total: u64) {
        self.0.set_length(total);
    }

    fn step(&self) {
        self.0.inc(1);
    }
}

/// Feature bags of examples.
pub fn bags(cfg: &FeatureConfig, examples: &[Example]) -> Vec<Bag> {
    let mut f = Featurizer::default();
    examples.iter().map(|e| f.bag(cfg, &[&e.text])).collect()
}

pub fn run_train(args: &TrainArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let examples = corpus::load(&args.data)?;
    let stats = corpus::stats(&examples);
    let data_hash = corpus::data_hash(&examples);
    let name = match &args.name {
        Some(n) => n.clone(),
        None => args
            .out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .context("--out has no directory name; pass --name")?,
    };
    let cfg = TrainConfig {
        name,
        seed: args.seed,
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        weight_decay: args.weight_decay,
        dim: args.dim,
        folds: args.folds,
        max_benign_fpr: args.max_benign_fpr,
        feature_dropout: args.feature_dropout,
        features: FeatureConfig {
            buckets_log2: args.buckets_log2,
            ..FeatureConfig::default()
        },
    };
    eprintln!(
        "training {} on {} examples from {} (data {})",
        cfg.name,
        examples.len(),
        args.data.display(),
        &data_hash[..12]
    );
    let bags = bags(&cfg.features, &examples);
    let labels: Vec<u32> = examples.iter().map(|e| e.label_index() as u32).collect();
    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} steps (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    };
    let outcome = train(&cfg, &bags, &labels, &data_hash, &Bar(bar.clone()))?;
    bar.finish_and_clear();
    let mut model = outcome.model;
    model.save(&args.out)?;
    let (oof_probs, oof_preds) = calibrate::decisions(
        &outcome.oof_logits,
        model.config.temperature,
        &model.config.threshold_array(),
    );
    let cross_validation = report_for(&examples, &oof_probs, &oof_preds);
    let train_seconds = started.elapsed().as_secs_f64();
    let test = match &args.eval {
        Some(path) => Some(test_eval(&model, path)?),
        None => None,
    };
    let eval = EvalFile {
        model: model.id(),
        data_hash,
        train: stats,
        cross_validation,
        test,
    };
    std::fs::write(
        args.out.join("eval.json"),
        serde_json::to_string_pretty(&eval)? + "\n",
    )
    .with_context(|| format!("writing {}", args.out.join("eval.json").display()))?;
    std::fs::write(
        args.out.join("README.md"),
        card::render(&model.config, &eval, train_seconds),
    )
    .with_context(|| format!("writing {}", args.out.join("README.md").display()))?;
    println!(
        "{} written to {} in {:.1} s: cross-validated macro-F1 {:.3}, scam recall {:.3} at {:.3} benign FPR",
        model.id(),
        args.out.display(),
        train_seconds,
        eval.cross_validation.overall.macro_f1,
        eval.cross_validation.overall.detection.recall,
        eval.cross_validation.overall.detection.false_positive_rate,
    );
    if let Some(t) = &eval.test {
        println!(
            "held-out test ({} examples): macro-F1 {:.3}, scam recall at 1 % FPR {:.3} (rules baseline {:.3} / {:.3})",
            t.stats.examples,
            t.model.overall.macro_f1,
            t.model.overall.detection.recall_at_1pct_fpr,
            t.rules_baseline.overall.macro_f1,
            t.rules_baseline.overall.detection.recall_at_1pct_fpr,
        );
    }
    Ok(())
}

fn test_eval(model: &NgramModel, path: &Path) -> anyhow::Result<TestEval> {
    let examples = corpus::load(path)?;
    let (probs, preds) = predict_all(model, &examples)?;
    let errors = examples
        .iter()
        .zip(&preds)
        .filter(|(e, p)| e.label_index() != **p)
        .map(|(e, p)| (e.id.clone(), e.label.clone(), LABELS[*p].to_string()))
        .collect();
    Ok(TestEval {
        data_hash: corpus::data_hash(&examples),
        stats: corpus::stats(&examples),
        model: report_for(&examples, &probs, &preds),
        rules_baseline: evaluate(&KeywordRules::new(), &examples)?,
        errors,
    })
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// JSONL input (`-` for stdin): one object per line with `id` and `text`.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "text",
        required_unless_present = "text"
    )]
    pub input: Option<PathBuf>,
    /// JSONL output (`-` or absent: stdout).
    #[arg(long, value_name = "FILE", requires = "input")]
    pub output: Option<PathBuf>,
    /// Classify one text and print the label, probabilities and top phrases.
    #[arg(long)]
    pub text: Option<String>,
    /// Print the --text result as JSON.
    #[arg(long, requires = "text")]
    pub json: bool,
}

pub fn run_classify(args: &ClassifyArgs, model: Option<&Path>) -> anyhow::Result<()> {
    let started = Instant::now();
    let classifier = load_classifier(model)?;
    tracing::debug!(
        model = %classifier.id(),
        load_ms = started.elapsed().as_millis() as u64,
        "classifier loaded"
    );
    if let Some(text) = &args.text {
        let p = classifier
            .classify_batch(&[Input { title: None, text }], true)?
            .pop()
            .context("no prediction")?;
        if args.json {
            println!(
                "{}",
                serde_json::json!({"label": p.label, "scores": p.probabilities_json(),
                    "phrases": p.spans, "model": classifier.id()})
            );
            return Ok(());
        }
        println!("{} ({:.3})  [{}]", p.label, p.score(), classifier.id());
        for (l, v) in LABELS.iter().zip(p.probabilities) {
            println!("  {l:<17} {v:.3}");
        }
        if !p.spans.is_empty() {
            println!("phrases:");
            for s in &p.spans {
                println!(
                    "  {:+.3}  chars {}..{}  {:?}",
                    s.weight, s.start, s.end, s.phrase
                );
            }
        }
        return Ok(());
    }
    let input = args
        .input
        .as_deref()
        .context("--input or --text is required")?;
    let reader: Box<dyn std::io::BufRead> = if input == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(BufReader::with_capacity(
            1 << 16,
            std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?,
        ))
    };
    let writer: Box<dyn std::io::Write> = match &args.output {
        Some(p) if p != Path::new("-") => Box::new(BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        _ => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let counts = scamsweep_classifier::stream::classify_jsonl(classifier.as_ref(), reader, writer)?;
    tracing::debug!(
        lines = counts.lines,
        classified = counts.classified,
        errors = counts.errors,
        seconds = started.elapsed().as_secs_f64(),
        "classify done"
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled JSONL file or directory (same format as the training data).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn run_eval(args: &EvalArgs, model: Option<&Path>) -> anyhow::Result<()> {
    let classifier = load_classifier(model)?;
    let examples = corpus::load(&args.data)?;
    let report = evaluate(classifier.as_ref(), &examples)?;
    let baseline = evaluate(&KeywordRules::new(), &examples)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "model": classifier.id(),
                "data": args.data,
                "data_hash": corpus::data_hash(&examples),
                "report": report,
                "rules_baseline": baseline,
            }))?
        );
        return Ok(());
    }
    print!("{}", render_eval(&classifier.id(), &report, &baseline));
    Ok(())
}

fn render_eval(model: &str, report: &Report, baseline: &Report) -> String {
    let mut rows = vec![(format!("{model} all"), &report.overall)];
    for (g, s) in &report.groups {
        rows.push((format!("{model} {g}"), s));
    }
    rows.push((format!("{} all", KeywordRules::NAME), &baseline.overall));
    for (g, s) in &baseline.groups {
        rows.push((format!("{} {g}", KeywordRules::NAME), s));
    }
    let refs: Vec<(&str, &scamsweep_classifier::metrics::Summary)> =
        rows.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    format!(
        "{}\n{model}:\n\n{}\n{}",
        card::summary_table(&refs),
        card::class_table(&report.overall),
        card::confusion_table(&report.overall)
    )
}
