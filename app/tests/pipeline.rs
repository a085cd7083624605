//! End-to-end behaviour of the pipeline, one suite run on SQLite and on PostgreSQL:
//! loopback sites → fetched, extracted, classified, flagged documents; recrawls that
//! create no duplicates; changed pages recorded as new versions; the audit chain.

mod common;

use std::sync::{Arc, Mutex};

use scamsweep::app::{self, Shutdown};
use scamsweep_sandbox::Sandbox;
use scamsweep_store::{Db, audit, documents, with_pool};

async fn count(db: &Db, sql: &'static str) -> i64 {
    let (n,): (i64,) = with_pool!(db, |p| sqlx::query_as(sql).fetch_one(p).await.unwrap());
    n
}

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

async fn sandbox_to_flagged(url: String) {
    let sandbox = Sandbox::start().await.unwrap();
    let cfg = scamsweep::demo::demo_config(common::test_config(&url)).unwrap();
    let db = app::open_db(&cfg).await.unwrap();
    let p = app::pipeline(&cfg, &db).unwrap();
    scamsweep::demo::seed_sandbox(&p, &sandbox).await.unwrap();
    let shutdown = Shutdown::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(240),
        app::run_until_idle(&cfg, p, &shutdown),
    )
    .await
    .expect("pipeline drained within 240 s")
    .unwrap();

    // Every page, message, listing, feed item and post the sandbox serves is a document;
    // every hostile endpoint ended in an acceptable, recorded outcome.
    let cov = scamsweep::demo::coverage(&db, &sandbox.ground_truth())
        .await
        .unwrap();
    assert!(cov.expected_documents > 500, "{cov:?}");
    assert!(
        cov.missing.is_empty(),
        "missing documents: {:?}",
        cov.missing
    );
    for h in &cov.hostile {
        assert!(h.contained, "hostile endpoint not contained: {h:?}");
    }
    assert!(cov.complete);

    let docs = count(&db, "SELECT COUNT(*) FROM documents").await;
    let classified = count(
        &db,
        "SELECT COUNT(DISTINCT version_id) FROM classifications",
    )
    .await;
    let versions = count(&db, "SELECT COUNT(*) FROM document_versions").await;
    let flagged = count(
        &db,
        "SELECT COUNT(*) FROM documents WHERE status = 'flagged'",
    )
    .await;
    assert_eq!(classified, versions, "every version classified");
    assert!(flagged > 0 && flagged < docs, "flagged {flagged} of {docs}");

    // The shipped model did the scoring, and each classification names it and carries its
    // explanation spans.
    let shipped =
        scamsweep_classifier::ngram::NgramModel::load(&scamsweep_classifier::default_model_dir())
            .unwrap();
    let models: Vec<(String, String)> = with_pool!(&db, |p| {
        sqlx::query_as("SELECT DISTINCT model_name, model_version FROM classifications")
            .fetch_all(p)
            .await
            .unwrap()
    });
    assert_eq!(
        models,
        vec![("ngram-vi".to_string(), shipped.config.version.clone())]
    );
    let explained = count(
        &db,
        "SELECT COUNT(*) FROM classifications WHERE label <> 'benign' AND explanation LIKE '[{%'",
    )
    .await;
    assert!(
        explained >= flagged,
        "{explained} explained, {flagged} flagged"
    );
    // Against the sandbox's labels (text the model never saw): most scams flagged, few
    // benign items flagged.
    let a = &cov.classifier;
    assert!(a.scams_flagged * 10 >= a.scams * 8, "{a:?}");
    assert!(a.benign_flagged * 10 <= a.benign, "{a:?}");

    // robots.txt forbids /admin/ on the investment site: refused, never requested.
    let admin_ok = count(
        &db,
        "SELECT COUNT(*) FROM fetches WHERE requested_url LIKE '%/admin/%' AND outcome = 'ok'",
    )
    .await;
    let admin_refused = count(
        &db,
        "SELECT COUNT(*) FROM fetches WHERE requested_url LIKE '%/admin/%' AND outcome = 'robots_disallowed'",
    )
    .await;
    assert_eq!((admin_ok, admin_refused), (0, 1));

    // Favicons are fetched and hashed, not stored: the phishing copy of the bank reuses the
    // bank's icon, and the hashes say so.
    let icons: Vec<(String, Option<String>)> = with_pool!(&db, |p| {
        sqlx::query_as(
        "SELECT requested_url, binary_sha256 FROM fetches WHERE requested_url LIKE '%/favicon.ico' \
         AND outcome = 'binary' ORDER BY requested_url"
    )
    .fetch_all(p)
    .await
    .unwrap()
    });
    let hash_of = |site: &str| {
        let base = sandbox.base(site);
        icons
            .iter()
            .find(|(u, _)| u.starts_with(&base))
            .and_then(|(_, h)| h.clone())
            .unwrap_or_else(|| panic!("no favicon fetched for {site}: {icons:?}"))
    };
    assert_eq!(hash_of("bank"), hash_of("phish-bank"));
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM blobs WHERE size = 1150").await,
        0,
        "binary bodies are not stored"
    );

    // Sources report their health and yield.
    let list = scamsweep::sources::list(&db).await.unwrap();
    assert!(list.len() >= 10);
    for s in &list {
        assert!(s.last_crawl_id.is_some(), "{s:?}");
        if s.kind == "telegram" {
            assert!(s.cursor.is_some_and(|c| c > 0), "{s:?}");
            assert!(s.items_last_run.is_some_and(|n| n > 0), "{s:?}");
        }
    }

    // Evidence: every ok fetch has its body stored under its hash.
    let no_body = count(
        &db,
        "SELECT COUNT(*) FROM fetches f LEFT JOIN blobs b ON b.sha256 = f.body_sha256 \
         WHERE f.outcome = 'ok' AND b.sha256 IS NULL",
    )
    .await;
    assert_eq!(no_body, 0);

    // Every flag is in the audit log, and the chain verifies.
    let flag_events = count(
        &db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'document.flagged'",
    )
    .await;
    assert_eq!(flag_events, flagged);
    let v = audit::verify(&db).await.unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert!(v.rows as i64 > flagged);

    // The API lists the flagged documents, page by page.
    let listed = documents::list_documents(&db, Some("flagged"), 0, 500)
        .await
        .unwrap();
    assert_eq!(listed.len() as i64, flagged);
    assert!(
        listed
            .iter()
            .all(|d| d.status == "flagged" && d.label.is_some())
    );
}
both_backends!(sandbox_to_flagged_documents, sandbox_to_flagged);

/// A one-page site whose body the test can change.
async fn mutable_site(body: Arc<Mutex<String>>) -> (String, tokio::task::JoinHandle<()>) {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/tin",
        get(move || {
            let body = body.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
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

async fn recrawl_and_versions(url: String) {
    let sandbox = Sandbox::start().await.unwrap();
    let cfg = common::test_config(&url);
    let body = Arc::new(Mutex::new(
        "<html><head><title>Tuyển CTV</title></head><body><p>Việc nhẹ lương cao, phí giữ chỗ 200k.</p></body></html>"
            .to_string(),
    ));
    let (base, _site) = mutable_site(body.clone()).await;
    let seeds = vec![
        ("web", format!("{}/", sandbox.base("jobs"))),
        ("web", format!("{base}/tin")),
    ];
    let db = crawl_once(&cfg, &seeds, 1).await;
    let docs1 = count(&db, "SELECT COUNT(*) FROM documents").await;
    let versions1 = count(&db, "SELECT COUNT(*) FROM document_versions").await;
    let fetches1 = count(&db, "SELECT COUNT(*) FROM fetches").await;
    assert!(docs1 >= 8);

    // Same crawl again: pages are fetched again (new evidence) but nothing new is stored.
    let db = crawl_once(&cfg, &seeds, 1).await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM documents").await, docs1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM document_versions").await,
        versions1
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM fetches").await,
        fetches1 * 2
    );

    // The page changes: same document, a second version, classified again.
    *body.lock().unwrap() =
        "<html><head><title>Tuyển CTV</title></head><body><p>Việc nhẹ lương cao, phí giữ chỗ nay chỉ 100k, ib Zalo.</p></body></html>"
            .to_string();
    let db = crawl_once(&cfg, &seeds, 1).await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM documents").await, docs1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM document_versions").await,
        versions1 + 1
    );
    let key = format!("web:{base}/tin");
    assert_eq!(documents::version_count(&db, &key).await.unwrap(), 2);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT version_id) FROM classifications"
        )
        .await,
        versions1 + 1
    );
}
both_backends!(recrawl_creates_no_duplicates, recrawl_and_versions);

async fn audit_tamper(url: String) {
    let cfg = common::test_config(&url);
    let db = app::open_db(&cfg).await.unwrap();
    for i in 0..5 {
        audit::append(
            &db,
            "tester",
            "test.event",
            &format!("thing:{i}"),
            &serde_json::json!({"i": i}),
        )
        .await
        .unwrap();
    }
    assert!(audit::verify(&db).await.unwrap().is_intact());

    // The binary agrees, with exit status 0.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scamsweep"))
        .args(["--database", &url, "audit", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An edited row is found...
    with_pool!(&db, |p| sqlx::query(
        "UPDATE audit_log SET detail = '{\"i\": 9}' WHERE seq = 3"
    )
    .execute(p)
    .await
    .unwrap()
    .rows_affected());
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_break.as_ref().map(|b| b.seq), Some(3), "{v:?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scamsweep"))
        .args(["--database", &url, "audit", "verify"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("audit chain broken at row 3"), "{err}");

    // ...and so is a deleted one, even after the edit is undone.
    with_pool!(&db, |p| sqlx::query(
        "UPDATE audit_log SET detail = '{\"i\":2}' WHERE seq = 3"
    )
    .execute(p)
    .await
    .unwrap()
    .rows_affected());
    assert!(audit::verify(&db).await.unwrap().is_intact());
    with_pool!(&db, |p| sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(p)
        .await
        .unwrap()
        .rows_affected());
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_break.as_ref().map(|b| b.seq), Some(3), "{v:?}");
}
both_backends!(audit_chain_detects_edits_and_deletions, audit_tamper);
