//! The binary's answers to bad input: one line on stderr that says what to fix, a non-zero
//! exit status, never a panic or a backtrace.

use std::process::Command;

fn scamsweep(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let dir = std::env::temp_dir().join("scamsweep-cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scamsweep"));
    cmd.args(args).current_dir(&dir).env("RUST_BACKTRACE", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_line_error(stderr: &str, needle: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(lines[0].contains(needle), "`{needle}` not in: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn invalid_database_url() {
    let (code, _, err) = scamsweep(&["--database", "mysql://root@localhost/x", "stats"], &[]);
    assert_ne!(code, 0);
    assert_one_line_error(&err, "unsupported database URL");
    let (code, _, err) = scamsweep(&["--database", "postgres://u:secret@[::1/x", "stats"], &[]);
    assert_ne!(code, 0);
    assert_one_line_error(&err, "invalid database URL");
    assert!(!err.contains("secret"), "password leaked: {err}");
}

#[test]
fn unreachable_postgres() {
    let (code, _, err) = scamsweep(
        &[
            "--database",
            "postgres://postgres:hunter2@127.0.0.1:1/test",
            "migrate",
        ],
        &[],
    );
    assert_ne!(code, 0);
    assert_one_line_error(&err, "is PostgreSQL running");
    assert!(!err.contains("hunter2"), "password leaked: {err}");
}

#[test]
fn sqlite_in_missing_directory() {
    let (code, _, err) = scamsweep(
        &["--database", "sqlite:///nonexistent/dir/x.db", "migrate"],
        &[],
    );
    assert_ne!(code, 0);
    assert_one_line_error(&err, "cannot open database");
}

#[test]
fn malformed_config_file() {
    let dir = std::env::temp_dir().join("scamsweep-cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[crawler\nuser_agent = 3").unwrap();
    let (code, _, err) = scamsweep(&["--config", bad.to_str().unwrap(), "stats"], &[]);
    assert_ne!(code, 0);
    assert_one_line_error(&err, "invalid configuration");

    let wrong = dir.join("wrong.toml");
    std::fs::write(&wrong, "[crawler]\nmax_body_bytes = \"lots\"\n").unwrap();
    let (code, _, err) = scamsweep(&["--config", wrong.to_str().unwrap(), "stats"], &[]);
    assert_ne!(code, 0);
    assert_one_line_error(&err, "max_body_bytes");

    let unknown = dir.join("unknown.toml");
    std::fs::write(&unknown, "[crawler]\nmax_bodybytes = 3\n").unwrap();
    let (code, _, err) = scamsweep(&["--config", unknown.to_str().unwrap(), "stats"], &[]);
    assert_ne!(code, 0);
    assert_one_line_error(&err, "max_bodybytes");

    let (code, _, err) = scamsweep(&["--config", "/no/such/file.toml", "stats"], &[]);
    assert_ne!(code, 0);
    assert_one_line_error(&err, "does not exist");

    let (code, _, err) = scamsweep(&["stats"], &[("SCAMSWEEP_TRIAGE__FLAG_THRESHOLD", "7")]);
    assert_ne!(code, 0);
    assert_one_line_error(&err, "flag_threshold");
}

#[test]
fn unknown_subcommand_and_role() {
    let (code, _, err) = scamsweep(&["frobnicate"], &[]);
    assert_eq!(code, 2);
    assert_one_line_error(&err, "frobnicate");
    let (code, _, err) = scamsweep(&["worker", "--roles", "crawl,cook"], &[]);
    assert_eq!(code, 2);
    assert_one_line_error(&err, "unknown role `cook`");
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["worker", "--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["crawl", "--help"],
        vec!["stats", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["demo", "--help"],
        vec!["bench", "queue", "--help"],
    ] {
        let (code, out, _) = scamsweep(&sub, &[]);
        assert_eq!(code, 0, "{sub:?}");
        assert!(out.contains("Usage:"), "{sub:?}: {out}");
    }
}

/// The acceptance run: `demo --once --json` crawls the whole sandbox web, every
/// ground-truth page, message, listing, feed item and post becomes a document, every
/// hostile endpoint ends in an acceptable recorded outcome, and memory stays bounded.
#[test]
fn demo_once_json_covers_the_sandbox_ground_truth() {
    let dir = std::env::temp_dir().join(format!("scamsweep-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scamsweep"))
        .args(["demo", "--once", "--json"])
        .current_dir(&dir)
        .env("SCAMSWEEP_LOG", "error")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cov = &v["coverage"];
    assert_eq!(cov["missing"], serde_json::json!([]), "{cov}");
    assert_eq!(cov["found_documents"], cov["expected_documents"]);
    assert!(cov["expected_documents"].as_u64().unwrap() > 500);
    for h in cov["hostile"].as_array().unwrap() {
        assert_eq!(h["contained"], true, "{h}");
    }
    assert_eq!(cov["complete"], true);
    for kind in [
        "web",
        "telegram_message",
        "app_listing",
        "apk_page",
        "feed_item",
        "group_post",
    ] {
        assert!(cov["by_kind"][kind][1].as_u64().unwrap() > 0, "{kind}");
    }
    // Every labelled item was classified by the shipped model.
    assert_eq!(cov["classifier"]["classified"], cov["expected_documents"]);
    assert!(cov["classifier"]["same_label"].as_u64().unwrap() > 0);
    // 1 GiB gzip bomb, endless stream and slowloris included: the process stays small.
    let rss = v["peak_rss_mib"].as_f64().unwrap();
    assert!(rss > 1.0 && rss < 400.0, "peak RSS {rss} MiB");
    assert!(dir.join("scamsweep-demo.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_refused_seed_is_one_error_line_naming_the_range() {
    let db = std::env::temp_dir().join(format!("scamsweep-refused-{}.db", std::process::id()));
    let db = format!("sqlite://{}", db.display());
    let (code, out, err) = scamsweep(
        &[
            "--database",
            &db,
            "crawl",
            "http://2130706433:8080/",
            "--once",
        ],
        &[],
    );
    assert_ne!(code, 0);
    assert!(out.is_empty(), "{out}");
    assert_one_line_error(&err, "127.0.0.1 is loopback (127.0.0.0/8)");
}
