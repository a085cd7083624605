//! The classifier commands through the real binary: the `classify` JSONL contract with
//! hostile lines, `--text`, `eval`, `train`, and retraining the shipped model from the
//! repository's corpus.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scamsweep-classify-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary in an empty directory (so the shipped model is found through the
/// source tree, as an installed binary would not rely on the working directory).
fn scamsweep(args: &[&str], stdin: Option<&[u8]>) -> (i32, Vec<u8>, String) {
    // One directory per call: tests run in parallel threads of one process.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = tmp(&format!("cwd-{n}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_scamsweep"))
        .args(args)
        .current_dir(&dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        let mut w = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || w.write_all(&input));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn shipped_version() -> String {
    let cfg: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("models/ngram-vi/config.json")).unwrap(),
    )
    .unwrap();
    cfg["version"].as_str().unwrap().to_string()
}

#[test]
fn classify_jsonl_contract_with_hostile_lines() {
    let dir = tmp("jsonl");
    let input = dir.join("in.jsonl");
    let mut body = Vec::new();
    body.extend_from_slice(
        "{\"id\": \"a\", \"text\": \"Cam kết lợi nhuận 5%/ngày, nạp USDT vào sàn, thầy đọc lệnh miễn phí\", \"lang\": \"vi\"}\n"
            .as_bytes(),
    );
    body.extend_from_slice(b"{\"id\": 2, \"text\": \"\"}\n");
    body.extend_from_slice(b"this is not json\n");
    body.extend_from_slice(b"{\"id\": \"bad-utf8\", \"text\": \"\xc3\x28\"}\n");
    body.extend_from_slice(b"{\"id\": \"no-text\"}\n");
    body.extend_from_slice(b"\n");
    body.extend_from_slice(
        "{\"id\": \"z\", \"text\": \"Quán phở đầu ngõ mở cửa từ 6 giờ sáng\"}".as_bytes(),
    );
    std::fs::write(&input, &body).unwrap();
    let output = dir.join("out.jsonl");
    let (code, _, err) = scamsweep(
        &[
            "classify",
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let out = json_lines(&std::fs::read(&output).unwrap());
    assert_eq!(out.len(), 7, "one output line per input line");
    let model = format!("ngram-vi@{}", shipped_version());
    assert_eq!(out[0]["id"], "a");
    assert_eq!(out[0]["label"], "investment_fraud");
    assert_eq!(out[0]["model"], model.as_str());
    let scores = out[0]["scores"].as_object().unwrap();
    let keys: Vec<&str> = scores.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 5);
    for l in scamsweep_classifier::LABELS {
        assert!(scores[l].as_f64().unwrap() >= 0.0, "{l}");
    }
    let sum: f64 = scores.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-3);
    assert_eq!(out[1]["id"], 2);
    assert_eq!(out[1]["label"], "benign");
    for (i, want) in [
        (2, "invalid JSON"),
        (3, "not UTF-8"),
        (4, "no `text`"),
        (5, "empty line"),
    ] {
        assert_eq!(out[i]["id"], Value::Null, "{}", out[i]);
        assert_eq!(out[i]["line"], i + 1, "{}", out[i]);
        assert!(
            out[i]["error"].as_str().unwrap().contains(want),
            "{}",
            out[i]
        );
    }
    assert_eq!(out[6]["id"], "z");
    assert_eq!(out[6]["label"], "benign");
}

#[test]
fn classify_streams_stdin_to_stdout() {
    let mut input = Vec::new();
    for i in 0..2000 {
        writeln!(input, "{{\"id\": {i}, \"text\": \"tin nhắn số {i}: viec nhe luong cao, nap 200k nhan nhiem vu\"}}").unwrap();
    }
    let (code, out, err) = scamsweep(&["classify", "--input", "-"], Some(&input));
    assert_eq!(code, 0, "{err}");
    let out = json_lines(&out);
    assert_eq!(out.len(), 2000);
    assert!(out.iter().enumerate().all(|(i, o)| o["id"] == i));
    assert!(out.iter().all(|o| o["label"] == "job_scam"), "{}", out[0]);
}

#[test]
fn classify_one_text_prints_label_probabilities_and_phrases() {
    let (code, out, err) = scamsweep(
        &[
            "classify",
            "--text",
            "[BIDV] Tai khoan cua quy khach se bi khoa trong 24h. Cap nhat sinh trac hoc tai bidv-xacthuc.top",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("impersonation"), "{out}");
    assert!(out.contains("benign") && out.contains("phrases:"), "{out}");
    let (code, out, _) = scamsweep(
        &[
            "classify",
            "--json",
            "--text",
            "Công thức bánh flan: 4 quả trứng, 500ml sữa tươi, 100g đường, hấp cách thủy 30 phút.",
        ],
        None,
    );
    assert_eq!(code, 0);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["label"], "benign", "{v}");
    assert!(v["phrases"].is_array());
}

#[test]
fn eval_reports_every_figure_beside_the_baseline() {
    let (code, out, err) = scamsweep(
        &[
            "eval",
            "--data",
            repo().join("classifier/data/test").to_str().unwrap(),
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_slice(&out).unwrap();
    for r in ["report", "rules_baseline"] {
        let o = &v[r]["overall"];
        assert!(o["macro_f1"].as_f64().is_some(), "{r}");
        assert_eq!(o["confusion"].as_array().unwrap().len(), 5);
        assert!(o["detection"]["recall_at_1pct_fpr"].as_f64().is_some());
        assert!(o["ece"].as_f64().is_some());
        for g in ["en", "vi_marked", "vi_plain"] {
            assert!(v[r]["groups"][g]["macro_f1"].as_f64().is_some(), "{r} {g}");
        }
    }
    // The trained model beats the keyword baseline by a wide margin.
    let m = v["report"]["overall"]["macro_f1"].as_f64().unwrap();
    let b = v["rules_baseline"]["overall"]["macro_f1"].as_f64().unwrap();
    assert!(m > b + 0.3, "model {m} vs baseline {b}");
    let (code, out, _) = scamsweep(
        &[
            "eval",
            "--data",
            repo().join("classifier/data/test").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0);
    let table = String::from_utf8(out).unwrap();
    assert!(
        table.contains("keyword-rules all") && table.contains("truth \\ predicted"),
        "{table}"
    );
}

#[test]
fn bad_inputs_are_one_line_errors() {
    let dir = tmp("bad");
    for (args, needle) in [
        (
            vec!["classify", "--input", "/nonexistent/in.jsonl"],
            "opening /nonexistent/in.jsonl",
        ),
        (
            vec!["classify", "--model", dir.to_str().unwrap(), "--text", "x"],
            "config.json",
        ),
        (
            vec!["eval", "--data", dir.to_str().unwrap()],
            "no .jsonl files",
        ),
        (
            vec![
                "train",
                "--data",
                "/nonexistent",
                "--out",
                dir.to_str().unwrap(),
            ],
            "/nonexistent",
        ),
    ] {
        let (code, _, err) = scamsweep(&args, None);
        assert_ne!(code, 0, "{args:?}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {err}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(needle),
            "{args:?}: {err}"
        );
    }
}

/// Writes a small labelled corpus (taken from the training data, every label) to `path`.
fn small_corpus(path: &Path, per_label: usize) {
    let mut counts = std::collections::HashMap::new();
    let mut out = String::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("classifier/data/train"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let n = counts
                .entry(v["label"].as_str().unwrap().to_string())
                .or_insert(0);
            if *n < per_label {
                *n += 1;
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn train_writes_a_complete_model_directory_that_classify_can_use() {
    let dir = tmp("train");
    let data = dir.join("small.jsonl");
    small_corpus(&data, 40);
    let out = dir.join("small-model");
    let (code, stdout, err) = scamsweep(
        &[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--eval",
            data.to_str().unwrap(),
            "--epochs",
            "2",
            "--buckets-log2",
            "14",
            "--folds",
            "3",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(String::from_utf8(stdout).unwrap().contains("small-model@"));
    for f in ["model.safetensors", "config.json", "README.md", "eval.json"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["training"]["examples"], 200);
    assert_eq!(cfg["training"]["data_hash"].as_str().unwrap().len(), 64);
    assert_eq!(cfg["features"]["buckets_log2"], 14);
    assert_eq!(cfg["thresholds"].as_object().unwrap().len(), 4);
    let card = std::fs::read_to_string(out.join("README.md")).unwrap();
    for needle in [
        "## Training",
        "Cross-validation",
        "truth \\ predicted",
        "Known weaknesses",
        "Calibration",
    ] {
        assert!(card.contains(needle), "card lacks {needle}");
    }
    let (code, stdout, err) = scamsweep(
        &[
            "classify",
            "--model",
            out.to_str().unwrap(),
            "--text",
            "xin chào",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        String::from_utf8(stdout)
            .unwrap()
            .contains(&format!("small-model@{}", cfg["version"].as_str().unwrap()))
    );
}

#[test]
fn retraining_from_the_repository_reproduces_the_shipped_model() {
    // The shipped model records its seed, hyper-parameters and data hash; training again
    // from this checkout must give the same data hash and the same figures.
    let shipped = repo().join("models/ngram-vi");
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(shipped.join("config.json")).unwrap())
            .unwrap();
    let t = &cfg["training"];
    let out = tmp("retrain").join("ngram-vi");
    let s = |v: &Value| v.to_string();
    let (code, _, err) = scamsweep(
        &[
            "train",
            "--data",
            repo().join("classifier/data/train").to_str().unwrap(),
            "--eval",
            repo().join("classifier/data/test").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--seed",
            &s(&t["seed"]),
            "--epochs",
            &s(&t["epochs"]),
            "--batch-size",
            &s(&t["batch_size"]),
            "--lr",
            &s(&t["learning_rate"]),
            "--weight-decay",
            &s(&t["weight_decay"]),
            "--folds",
            &s(&t["folds"]),
            "--dim",
            &s(&cfg["dim"]),
            "--buckets-log2",
            &s(&cfg["features"]["buckets_log2"]),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let read = |d: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("eval.json")).unwrap()).unwrap()
    };
    let (a, b) = (read(&shipped), read(&out));
    assert_eq!(
        a["data_hash"], b["data_hash"],
        "the corpus changed since the model was trained"
    );
    let new_cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(new_cfg["training"], cfg["training"]);
    let figure = |v: &Value, p: &[&str]| p.iter().fold(v, |v, k| &v[*k]).as_f64().unwrap();
    for p in [
        &["cross_validation", "overall", "macro_f1"][..],
        &["test", "model", "overall", "macro_f1"][..],
        &[
            "test",
            "model",
            "overall",
            "detection",
            "recall_at_1pct_fpr",
        ][..],
        &["test", "model", "overall", "ece"][..],
    ] {
        let (x, y) = (figure(&a, p), figure(&b, p));
        assert!((x - y).abs() <= 0.005, "{p:?}: shipped {x}, retrained {y}");
    }
}
