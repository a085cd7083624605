//! Scale-out on PostgreSQL: three `scamsweep worker` OS processes share one queue. 500
//! pages are each fetched and stored exactly once, no job is lost, and the same holds
//! when one worker is killed with SIGKILL mid-run (its claimed jobs go to the others).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use scamsweep::app;
use scamsweep_sandbox::Sandbox;
use scamsweep_store::{Db, with_pool};
use url::Url;

const PAGES: u64 = 500;

async fn count(db: &Db, sql: &'static str) -> i64 {
    let (n,): (i64,) = with_pool!(db, |p| sqlx::query_as(sql).fetch_one(p).await.unwrap());
    n
}

fn spawn_worker(url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_scamsweep"))
        .args(["--database", url, "worker", "--roles", "crawl,classify"])
        .env("SCAMSWEEP_CRAWLER__ALLOW_NETWORKS", "[\"127.0.0.1/32\"]")
        .env("SCAMSWEEP_CRAWLER__HOST_CONCURRENCY", "8")
        .env("SCAMSWEEP_CRAWLER__DEFAULT_CRAWL_DELAY_MS", "0")
        .env("SCAMSWEEP_QUEUE__POLL_INTERVAL_MS", "50")
        .env("SCAMSWEEP_QUEUE__HEARTBEAT_SECS", "2")
        .env("SCAMSWEEP_QUEUE__MISSED_HEARTBEATS", "3")
        .env("SCAMSWEEP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start worker process")
}

/// The two scale-out runs take turns: six worker processes at once on a 2-core CI machine
/// starve heartbeats, and live workers get declared dead.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scale_out(kill_one: bool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(url) = common::pg_url(if kill_one { "scale_kill" } else { "scale" }).await else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let cfg = common::test_config(&url);
    let db = app::open_db(&cfg).await.unwrap();
    let p = app::pipeline(&cfg, &db).unwrap();
    let base = sandbox.base("bulk");
    let seeds: Vec<Url> = (0..PAGES)
        .map(|n| Url::parse(&format!("{base}/p/{n}")).unwrap())
        .collect();
    let mut spec = common::spec("web", &[seeds[0].as_str()], 0);
    spec.seeds = seeds.clone();
    let queued = p.start_crawl(&spec, None, None).await.unwrap().queued;
    assert_eq!(queued as u64, PAGES);

    let mut workers: Vec<Child> = (0..3).map(|_| spawn_worker(&url)).collect();
    let start = Instant::now();
    let mut killed = false;
    loop {
        let done = count(
            &db,
            "SELECT COUNT(*) FROM fetches WHERE requested_url NOT LIKE '%/favicon.ico'",
        )
        .await;
        if kill_one && !killed && done >= 100 {
            workers[0].kill().expect("SIGKILL worker 0");
            let _ = workers[0].wait();
            killed = true;
        }
        for (i, w) in workers.iter_mut().enumerate() {
            if !(killed && i == 0)
                && let Some(status) = w.try_wait().unwrap()
            {
                panic!("worker {i} exited early: {status}");
            }
        }
        let outstanding = p
            .queue
            .outstanding(scamsweep_queue::workers::pipeline_queues())
            .await
            .unwrap();
        let triaged = count(&db, "SELECT COUNT(*) FROM documents WHERE status <> 'new'").await;
        if done == PAGES as i64 && triaged == PAGES as i64 && outstanding == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "stalled: {done} fetches, {triaged} triaged, {outstanding} jobs outstanding"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for w in &mut workers {
        let _ = w.kill();
        let _ = w.wait();
    }
    assert_eq!(kill_one, killed);

    // Every page exactly once: one frontier row, one fetch, one document, one version.
    // (Plus the host's favicon, fetched once per crawl: the sandbox has none, so a 404.)
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM frontier").await,
        PAGES as i64 + 1
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM fetches").await,
        PAGES as i64 + 1
    );
    assert_eq!(
        count(&db, "SELECT COUNT(DISTINCT frontier_id) FROM fetches").await,
        PAGES as i64 + 1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM fetches WHERE requested_url LIKE '%/favicon.ico' AND outcome = 'not_found'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM fetches WHERE outcome = 'ok'").await,
        PAGES as i64
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM documents").await,
        PAGES as i64
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM document_versions").await,
        PAGES as i64
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT version_id) FROM classifications"
        )
        .await,
        PAGES as i64
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM classifications").await,
        PAGES as i64
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM frontier WHERE state <> 'done'").await,
        0
    );
    // No job lost: none left pending, claimed, running or failed.
    let stuck = count(
        &db,
        "SELECT COUNT(*) FROM apalis.jobs WHERE status <> 'Done' AND job_type LIKE 'scamsweep.%'",
    )
    .await;
    assert_eq!(stuck, 0);
    // All three processes took part.
    let workers_seen = count(
        &db,
        "SELECT COUNT(DISTINCT lock_by) FROM apalis.jobs WHERE job_type = 'scamsweep.fetch'",
    )
    .await;
    assert!(workers_seen >= 2, "only {workers_seen} worker(s) fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_worker_processes_store_every_page_once() {
    scale_out(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_one_worker_loses_and_duplicates_nothing() {
    scale_out(true).await;
}
