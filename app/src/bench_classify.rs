//! `scamsweep bench classify`: documents per second through `scamsweep classify` (JSONL in,
//! JSONL out, feature extraction included) on one core, for the trained model and for the
//! keyword-rules baseline on the same input, plus the model's load time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct ClassifyBench {
    /// Documents to classify.
    #[arg(long, default_value_t = 20_000)]
    pub docs: usize,
    /// Approximate size of each document in bytes (texts from the corpus, concatenated).
    #[arg(long, default_value_t = 1000)]
    pub bytes: usize,
    /// Threads the classifier may use (1: pinned to one core with `taskset` when present).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct Run {
    pub model: String,
    pub docs: usize,
    pub seconds: f64,
    pub docs_per_second: f64,
    pub mb_per_second: f64,
    pub cpu_seconds: Option<f64>,
    pub peak_rss_mib: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub docs: usize,
    pub mean_bytes: f64,
    pub threads: usize,
    pub pinned: bool,
    pub model_load_ms_median: f64,
    pub runs: Vec<Run>,
    /// Trained model's throughput over the baseline's.
    pub ratio_to_baseline: f64,
}

/// Writes `docs` JSONL documents of about `bytes` bytes built from the corpus texts.
fn write_input(path: &Path, docs: usize, bytes: usize) -> anyhow::Result<f64> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../classifier/data");
    let mut texts = Vec::new();
    for split in ["train", "test"] {
        for e in scamsweep_classifier::corpus::load(&data.join(split))? {
            texts.push(e.text);
        }
    }
    anyhow::ensure!(
        !texts.is_empty(),
        "no corpus texts under {}",
        data.display()
    );
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut next = 0usize;
    let mut total = 0usize;
    for id in 0..docs {
        let mut doc = String::with_capacity(bytes + 256);
        while doc.len() < bytes {
            doc.push_str(&texts[next % texts.len()]);
            doc.push('\n');
            next += 7; // a stride, so neighbouring documents mix sources
        }
        let mut cut = bytes.min(doc.len());
        while !doc.is_char_boundary(cut) {
            cut -= 1;
        }
        doc.truncate(cut);
        total += doc.len();
        serde_json::to_writer(&mut out, &serde_json::json!({"id": id, "text": doc}))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(total as f64 / docs.max(1) as f64)
}

fn has_taskset() -> bool {
    Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_one(
    input: &Path,
    name: String,
    model: Option<&Path>,
    threads: usize,
    pin: bool,
    docs: usize,
    total_bytes: f64,
) -> anyhow::Result<Run> {
    let exe = std::env::current_exe()?;
    let mut cmd = if pin {
        let mut c = Command::new("taskset");
        c.arg("-c").arg("0").arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.arg("classify")
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg("/dev/null")
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(m) = model {
        cmd.arg("--model").arg(m);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().context("starting scamsweep classify")?;
    let pid = child.id().to_string();
    let mut last = None;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if let Some(u) = crate::procstat::usage(&pid) {
            last = Some(u);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        anyhow::bail!("classify failed: {}", err.trim());
    }
    Ok(Run {
        model: name,
        docs,
        seconds,
        docs_per_second: docs as f64 / seconds,
        mb_per_second: total_bytes / seconds / 1e6,
        cpu_seconds: last.map(|u| u.cpu_ms as f64 / 1000.0),
        peak_rss_mib: last.map(|u| u.peak_rss_kib as f64 / 1024.0),
    })
}

pub fn run(model: Option<&Path>, args: &ClassifyBench) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("scamsweep-bench-classify-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let input: PathBuf = dir.join("input.jsonl");
    let mean_bytes = write_input(&input, args.docs, args.bytes)?;
    let total = mean_bytes * args.docs as f64;
    let pin = args.threads == 1 && has_taskset();
    // Load time: median of 7 loads in this process (files in the page cache after the first).
    let mut loads = Vec::with_capacity(7);
    let mut id = String::new();
    for _ in 0..7 {
        let t = Instant::now();
        id = scamsweep_classifier::load_classifier(model)?.id();
        loads.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    loads.sort_by(f64::total_cmp);
    let rules = PathBuf::from(scamsweep_classifier::RULES_MODEL);
    let runs = vec![
        run_one(&input, id, model, args.threads, pin, args.docs, total)?,
        run_one(
            &input,
            scamsweep_classifier::RULES_MODEL.to_string(),
            Some(&rules),
            args.threads,
            pin,
            args.docs,
            total,
        )?,
    ];
    let _ = std::fs::remove_dir_all(&dir);
    let report = Report {
        docs: args.docs,
        mean_bytes,
        threads: args.threads,
        pinned: pin,
        model_load_ms_median: loads[loads.len() / 2],
        ratio_to_baseline: runs[0].docs_per_second / runs[1].docs_per_second,
        runs,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} documents of {:.0} bytes on average, {} thread(s){}; model load {:.1} ms (median of 7)",
        report.docs,
        report.mean_bytes,
        report.threads,
        if pin { ", pinned to CPU 0" } else { "" },
        report.model_load_ms_median
    );
    for r in &report.runs {
        println!(
            "{:<28} {:>9.0} docs/s {:>6.2} MB/s  {:>6.2} s wall  cpu {:>6} s  peak RSS {:>6} MiB",
            r.model,
            r.docs_per_second,
            r.mb_per_second,
            r.seconds,
            r.cpu_seconds.map_or("-".into(), |c| format!("{c:.2}")),
            r.peak_rss_mib.map_or("-".into(), |m| format!("{m:.0}")),
        );
    }
    println!(
        "trained model / keyword-rules baseline: {:.2}x",
        report.ratio_to_baseline
    );
    Ok(())
}
