//! Evidence bundles end to end, on SQLite and PostgreSQL: crawl sandbox sites through the
//! real pipeline, export a document, then check the bundle against the store (every body's
//! SHA-256 recomputed) and with an independent WARC reader (Python's warcio, digests
//! checked). A tampered WARC must fail that check; bad exports must fail cleanly.
//!
//! warcio comes from `SCAMSWEEP_PYTHON` if set, else `target/warcio-venv/bin/python`,
//! which the test creates (`python3 -m venv`, `pip install warcio==WARCIO_VERSION`) when
//! missing. If that cannot be set up the tests fail: they never skip.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use scamsweep::app::{self, Shutdown};
use scamsweep::evidence::{self, MANIFEST_FILE, Manifest, WARC_FILE};
use scamsweep_sandbox::Sandbox;
use scamsweep_store::{Db, audit, fetches, sha256_hex, with_pool};
use serde_json::Value;
use url::Url;

/// The warcio release the venv gets (what `pip` offered as latest when this was written).
const WARCIO_VERSION: &str = "1.8.1";

// ---------------------------------------------------------------------------------------
// The independent reader.

fn target_dir() -> PathBuf {
    // target/<profile>/deps/<test binary>
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn has_warcio(python: &Path) -> Result<String, String> {
    let out = Command::new(python)
        .args([
            "-c",
            "from importlib.metadata import version; import warcio.archiveiterator; print(version('warcio'))",
        ])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "{} cannot import warcio: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn run_setup(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn setup_python() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("SCAMSWEEP_PYTHON") {
        let p = PathBuf::from(p);
        has_warcio(&p).map_err(|e| format!("SCAMSWEEP_PYTHON: {e}"))?;
        return Ok(p);
    }
    let venv = target_dir().join("warcio-venv");
    let python = venv.join("bin").join("python");
    if has_warcio(&python).is_ok() {
        return Ok(python);
    }
    if !python.exists() {
        run_setup(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            &format!("python3 -m venv {}", venv.display()),
        )?;
    }
    run_setup(
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            &format!("warcio=={WARCIO_VERSION}"),
        ]),
        &format!(
            "pip install warcio=={WARCIO_VERSION} into {}",
            venv.display()
        ),
    )?;
    has_warcio(&python)?;
    Ok(python)
}

/// A Python that can import warcio; panics (fails the test) when none can be set up.
fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(setup_python)
        .clone()
        .unwrap_or_else(|e| {
            panic!(
                "an independent WARC reader is required: {e}\n\
                 (set SCAMSWEEP_PYTHON to a Python with warcio, or make python3 -m venv and PyPI available)"
            )
        })
}

/// Runs warc_check.py on `warc`; returns its JSON report and whether it exited 0.
fn warcio_check(warc: &Path) -> (Value, bool) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/warc_check.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(warc)
        .output()
        .expect("run warc_check.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "warc_check.py printed no JSON ({e}); status {}; stdout: {stdout}; stderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.success())
}

// ---------------------------------------------------------------------------------------
// Crawling.

async fn crawl_once(cfg: &scamsweep::config::Config, seeds: &[(&str, String)], depth: i64) -> Db {
    let db = app::open_db(cfg).await.unwrap();
    let p = app::pipeline(cfg, &db).unwrap();
    for (kind, url) in seeds {
        let spec = common::spec(kind, &[url.as_str()], depth);
        p.start_crawl(&spec, None, None).await.unwrap();
    }
    let shutdown = Shutdown::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        app::run_until_idle(cfg, p, &shutdown),
    )
    .await
    .expect("pipeline drained within 120 s")
    .unwrap();
    db
}

/// A site whose `/old` permanently redirects to `/tin`, whose body the test can change.
async fn redirecting_site(body: Arc<Mutex<String>>) -> (String, tokio::task::JoinHandle<()>) {
    use axum::http::{StatusCode, header};
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/old",
            get(|| async { (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/tin")]) }),
        )
        .route(
            "/tin",
            get(move || {
                let body = body.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        body.lock().unwrap().clone(),
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, task)
}

async fn one_i64(db: &Db, sql: &'static str, arg: &str) -> Option<i64> {
    let row: Option<(i64,)> = with_pool!(db, |p| sqlx::query_as(sql)
        .bind(arg)
        .fetch_optional(p)
        .await
        .unwrap());
    row.map(|(n,)| n)
}

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("scamsweep-tests").join(format!(
        "evidence_{tag}_{}_{}",
        std::process::id(),
        scamsweep_store::now_ms()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

// ---------------------------------------------------------------------------------------
// Checks.

/// The manifest agrees with the store: the same document, versions and fetches, and every
/// body, read back and hashed again, matches its recorded SHA-256 and size.
async fn check_against_store(db: &Db, doc_id: i64, m: &Manifest, dir: &Path) {
    let doc = scamsweep_store::evidence::document(db, doc_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.format, evidence::MANIFEST_FORMAT);
    assert_eq!(m.tool.name, "scamsweep");
    assert_eq!(m.tool.version, env!("CARGO_PKG_VERSION"));
    assert!(
        m.generated_at.ends_with('Z') && m.generated_at.len() == 24,
        "{}",
        m.generated_at
    );
    assert_eq!(m.document.id, doc.id);
    assert_eq!(m.document.doc_key, doc.doc_key);
    assert_eq!(m.document.url, doc.url);
    assert_eq!(m.document.kind, doc.kind);
    assert_eq!(m.document.status, doc.status);
    assert_eq!(m.document.label, doc.label);
    assert_eq!(m.document.score, doc.score);

    let versions = scamsweep_store::evidence::versions(db, doc_id)
        .await
        .unwrap();
    assert_eq!(
        m.versions
            .iter()
            .map(|v| (v.id, v.version, v.fetch_id, v.content_hash.clone()))
            .collect::<Vec<_>>(),
        versions
            .iter()
            .map(|v| (v.id, v.version, v.fetch_id, v.content_hash.clone()))
            .collect::<Vec<_>>(),
    );
    let fetch_ids: BTreeSet<i64> = versions.iter().map(|v| v.fetch_id).collect();
    assert_eq!(
        m.fetches.iter().map(|f| f.id).collect::<BTreeSet<_>>(),
        fetch_ids
    );

    for f in &m.fetches {
        let row = fetches::fetch(db, f.id).await.unwrap().unwrap();
        assert_eq!(f.requested_url, row.requested_url);
        assert_eq!(Some(&f.final_url), row.final_url.as_ref());
        assert_eq!(Some(i64::from(f.status)), row.status);
        assert_eq!(f.outcome, row.outcome);
        assert_eq!(f.resolved_ip, row.resolved_ip);
        assert_eq!(f.elapsed_ms, row.elapsed_ms);
        assert_eq!(
            f.started_at,
            scamsweep_crawler::warc::rfc3339_ms(row.started_at)
        );
        assert_eq!(
            Value::Object(f.headers.clone()),
            serde_json::from_str::<Value>(&row.headers).unwrap()
        );
        let chain: Vec<Value> = serde_json::from_str(&row.redirect_chain).unwrap();
        assert_eq!(f.redirect_chain.len(), chain.len());
        for (hop, stored) in f.redirect_chain.iter().zip(&chain) {
            assert_eq!(hop.url, stored["url"].as_str().unwrap());
            assert_eq!(u64::from(hop.status), stored["status"].as_u64().unwrap());
        }
        // (a) the body, recomputed from the store.
        let body = fetches::get_blob(db, &f.body_sha256)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sha256_hex(&body), f.body_sha256);
        assert_eq!(Some(&f.body_sha256), row.body_sha256.as_ref());
        assert_eq!(body.len() as i64, f.body_size);
        assert_eq!(Some(f.body_size), row.body_size);
        assert_eq!(
            f.warc_payload_digest,
            scamsweep_crawler::warc::sha256_digest(&body)
        );
    }

    // The WARC's own hash and size, and the manifest's hash in the audit log.
    let warc = std::fs::read(dir.join(WARC_FILE)).unwrap();
    assert_eq!(m.warc.sha256, sha256_hex(&warc));
    assert_eq!(m.warc.size, warc.len() as u64);
    let manifest_bytes = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
    let mut on_disk: Manifest = serde_json::from_slice(&manifest_bytes).unwrap();
    // serde_json's default float parser may differ in the last digit.
    if let (Some(a), Some(b)) = (on_disk.document.score, m.document.score) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        on_disk.document.score = m.document.score;
    }
    assert_eq!(&on_disk, m);
    let last = audit::recent(db, 1).await.unwrap().remove(0);
    assert_eq!(last.action, evidence::AUDIT_ACTION);
    assert_eq!(last.subject, format!("document:{doc_id}"));
    let detail: Value = serde_json::from_str(&last.detail).unwrap();
    assert_eq!(detail["manifest_sha256"], sha256_hex(&manifest_bytes));
    assert_eq!(detail["warc_sha256"], m.warc.sha256);
    assert!(audit::verify(db).await.unwrap().is_intact());

    // Nothing else was left in the directory.
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [WARC_FILE, MANIFEST_FILE]);
}

/// (b) warcio reads the WARC, every digest passes, and what it sees matches the manifest.
fn check_with_warcio(m: &Manifest, dir: &Path) {
    let (report, ok) = warcio_check(&dir.join(WARC_FILE));
    assert!(
        ok && report["ok"] == true,
        "warcio check failed: {report:#}"
    );
    let records = report["records"].as_array().unwrap();
    assert_eq!(records.len(), m.warc.records);
    assert_eq!(
        report["strict_records"].as_u64(),
        Some(records.len() as u64)
    );
    for r in records {
        assert_eq!(r["digest_passed"], true, "{r:#}");
        assert!(r["block_digest"].as_str().unwrap().starts_with("sha256:"));
    }
    let by_id: BTreeMap<&str, &Value> = records
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect();
    assert_eq!(by_id.len(), records.len(), "record ids are unique");

    assert_eq!(records[0]["type"], "warcinfo");
    assert_eq!(records[0]["id"], m.warc.warcinfo_id.as_str());

    // Expected order: per fetch, (request, response) per hop, then the final pair.
    let mut expected = vec![("warcinfo".to_string(), None::<String>)];
    for f in &m.fetches {
        for hop in &f.redirect_chain {
            expected.push(("request".into(), Some(hop.url.clone())));
            expected.push(("response".into(), Some(hop.url.clone())));
        }
        expected.push(("request".into(), Some(f.final_url.clone())));
        expected.push(("response".into(), Some(f.final_url.clone())));
    }
    let seen: Vec<(String, Option<String>)> = records
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_string(),
                r["target_uri"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(seen, expected);

    for f in &m.fetches {
        let resp = by_id[f.warc_response_id.as_str()];
        let req = by_id[f.warc_request_id.as_str()];
        assert_eq!(resp["type"], "response");
        assert_eq!(resp["content_type"], "application/http;msgtype=response");
        assert_eq!(resp["target_uri"], f.final_url.as_str());
        assert_eq!(resp["http_status"].as_u64(), Some(u64::from(f.status)));
        // The payload warcio delivers is the stored body, byte for byte.
        assert_eq!(resp["payload_sha256"], f.body_sha256.as_str(), "{resp:#}");
        assert_eq!(resp["payload_size"].as_i64(), Some(f.body_size));
        assert_eq!(resp["payload_digest"], f.warc_payload_digest.as_str());
        assert_eq!(
            resp["http_content_length"].as_str(),
            Some(f.body_size.to_string().as_str())
        );
        assert_eq!(resp["ip"].as_str(), f.resolved_ip.as_deref());
        assert_eq!(resp["concurrent_to"], f.warc_request_id.as_str());
        let secs = &f.started_at[..19];
        assert_eq!(resp["date"], format!("{secs}Z"));

        assert_eq!(req["type"], "request");
        assert_eq!(req["content_type"], "application/http;msgtype=request");
        assert_eq!(req["concurrent_to"], f.warc_response_id.as_str());
        let url = Url::parse(&f.final_url).unwrap();
        assert_eq!(
            req["http_host"].as_str(),
            Some(scamsweep_crawler::warc::host_header(&url).as_str())
        );
        let ua = req["http_user_agent"].as_str().unwrap();
        assert!(ua.starts_with("scamsweep/"), "{ua}");

        for hop in &f.redirect_chain {
            let hr = by_id[hop.warc_response_id.as_str()];
            assert_eq!(hr["http_status"].as_u64(), Some(u64::from(hop.status)));
            assert_eq!(hr["http_location"], hop.location.as_str());
            assert_eq!(hr["payload_size"], 0);
            assert_eq!(hr["concurrent_to"], hop.warc_request_id.as_str());
            assert_eq!(by_id[hop.warc_request_id.as_str()]["type"], "request");
        }
    }
}

/// A copy of the WARC with one byte of a response payload flipped fails the digest check.
fn check_tamper_detected(m: &Manifest, dir: &Path, tampered_dir: &Path) {
    let f = m.fetches.iter().find(|f| f.body_size > 0).unwrap();
    let mut warc = std::fs::read(dir.join(WARC_FILE)).unwrap();
    let needle = format!("WARC-Record-ID: {}\r\n", f.warc_response_id);
    let at = find(&warc, needle.as_bytes()).expect("response record in WARC");
    let block = at + find(&warc[at..], b"\r\n\r\n").unwrap() + 4;
    let payload = block + find(&warc[block..], b"\r\n\r\n").unwrap() + 4;
    warc[payload + f.body_size as usize / 2] ^= 0x01;
    std::fs::create_dir_all(tampered_dir).unwrap();
    let path = tampered_dir.join(WARC_FILE);
    std::fs::write(&path, &warc).unwrap();

    let (report, ok) = warcio_check(&path);
    assert!(
        !ok && report["ok"] == false,
        "tampering went unnoticed: {report:#}"
    );
    let rec = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == f.warc_response_id.as_str())
        .unwrap();
    assert_eq!(rec["digest_passed"], false, "{rec:#}");
    assert_ne!(rec["payload_sha256"], f.body_sha256.as_str());
    let problems = report["problems"].to_string();
    assert!(problems.contains("digest failed"), "{problems}");
    // Every other record still verifies.
    let others_ok = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] != f.warc_response_id.as_str())
        .all(|r| r["digest_passed"] == true);
    assert!(others_ok, "{report:#}");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Deletes a stored body behind the store's back (the foreign key would refuse).
async fn delete_blob(db: &Db, sha: &str) {
    match db {
        Db::Sqlite(pool) => {
            let mut c = pool.acquire().await.unwrap();
            sqlx::query("PRAGMA foreign_keys = OFF")
                .execute(&mut *c)
                .await
                .unwrap();
            sqlx::query("DELETE FROM blobs WHERE sha256 = $1")
                .bind(sha)
                .execute(&mut *c)
                .await
                .unwrap();
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&mut *c)
                .await
                .unwrap();
        }
        Db::Postgres(pool) => {
            sqlx::query("ALTER TABLE fetches DROP CONSTRAINT fetches_body_sha256_fkey")
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("DELETE FROM blobs WHERE sha256 = $1")
                .bind(sha)
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The tests.

async fn export_bundle(url: String) {
    // Fail early, before crawling, when no independent reader can be had.
    python();
    let sandbox = Sandbox::start().await.unwrap();
    let cfg = common::test_config(&url);
    let body = Arc::new(Mutex::new(
        "<html><head><title>Tuyển CTV</title></head><body><p>Việc nhẹ lương cao, phí giữ chỗ 200k.</p></body></html>"
            .to_string(),
    ));
    let (base, _site) = redirecting_site(body.clone()).await;
    let seeds = vec![
        ("web", format!("{}/", sandbox.base("invest"))),
        ("web", format!("{base}/old")),
    ];
    crawl_once(&cfg, &seeds, 1).await;
    // The page changes and is crawled again: a second version from a second fetch.
    *body.lock().unwrap() =
        "<html><head><title>Tuyển CTV</title></head><body><p>Việc nhẹ lương cao, phí giữ chỗ nay chỉ 100k, ib Zalo.</p></body></html>"
            .to_string();
    let db = crawl_once(&cfg, &seeds[1..], 1).await;

    // A document behind a redirect, with two versions.
    let key = format!("web:{base}/tin");
    let doc_id = one_i64(&db, "SELECT id FROM documents WHERE doc_key = $1", &key)
        .await
        .unwrap_or_else(|| panic!("no document {key}"));
    let dir = out_dir("redirected");
    let m = evidence::export(&db, doc_id, &dir).await.unwrap();
    assert_eq!(m.versions.len(), 2);
    assert_eq!(m.fetches.len(), 2);
    for f in &m.fetches {
        assert_eq!(f.requested_url, format!("{base}/old"));
        assert_eq!(f.final_url, format!("{base}/tin"));
        assert_eq!(f.redirect_chain.len(), 1);
        assert_eq!(f.redirect_chain[0].status, 301);
        assert_eq!(f.redirect_chain[0].location, f.final_url);
        assert_eq!(f.resolved_ip.as_deref(), Some("127.0.0.1"));
    }
    assert_eq!(m.warc.records, 1 + 2 * 4);
    check_against_store(&db, doc_id, &m, &dir).await;
    check_with_warcio(&m, &dir);
    let tampered = out_dir("tampered");
    check_tamper_detected(&m, &dir, &tampered);

    // A flagged document from the scam site: no redirect, one fetch.
    let flagged = one_i64(
        &db,
        "SELECT id FROM documents WHERE status = 'flagged' AND doc_key <> $1 ORDER BY id LIMIT 1",
        &key,
    )
    .await
    .expect("a flagged document");
    let dir2 = out_dir("flagged");
    let m2 = evidence::export(&db, flagged, &dir2).await.unwrap();
    assert_eq!(m2.document.status, "flagged");
    assert!(m2.document.label.is_some() && m2.document.score.is_some());
    assert!(m2.fetches.iter().all(|f| f.redirect_chain.is_empty()));
    check_against_store(&db, flagged, &m2, &dir2).await;
    check_with_warcio(&m2, &dir2);

    // Exporting into a non-empty directory is refused and leaves the bundle alone.
    let before = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
    let err = evidence::export(&db, doc_id, &dir).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("refusing to overwrite"),
        "{err:#}"
    );
    assert_eq!(std::fs::read(dir.join(MANIFEST_FILE)).unwrap(), before);

    // A body gone from the blob store: the error names it, and nothing is written.
    let sha = m2.fetches[0].body_sha256.clone();
    delete_blob(&db, &sha).await;
    let dir3 = out_dir("missing_body");
    let err = evidence::export(&db, flagged, &dir3).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&sha) && msg.contains("missing from the blob store"),
        "{msg}"
    );
    assert!(!dir3.join(WARC_FILE).exists() && !dir3.join(MANIFEST_FILE).exists());

    for d in [&dir, &dir2, &tampered] {
        let _ = std::fs::remove_dir_all(d);
    }
}
both_backends!(export_verifies_against_store_and_warcio, export_bundle);

async fn export_unknown(url: String) {
    let cfg = common::test_config(&url);
    let db = app::open_db(&cfg).await.unwrap();
    let dir = out_dir("unknown");
    let err = evidence::export(&db, 424_242, &dir).await.unwrap_err();
    assert_eq!(format!("{err:#}"), "no document with id 424242");
    assert!(!dir.exists(), "no directory is created for a failed export");
    assert_eq!(audit::recent(&db, 10).await.unwrap().len(), 0);
}
both_backends!(export_of_unknown_document_fails_cleanly, export_unknown);
