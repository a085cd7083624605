//! Evidence bundles: `scamsweep evidence export DOC_ID --out DIR` writes what a procuracy
//! needs to accept a document as a lead: `DIR/evidence.warc` (WARC/1.1: the reconstructed
//! request, the redirect hops and the response with the stored body, per fetch) and
//! `DIR/manifest.json` (what, when, where, and the hashes that tie them together).
//!
//! Everything is read and checked before anything is written: an unknown document, a
//! fetch without a body or a body missing from the blob store stops the export with
//! nothing left behind. The WARC is written first, then the manifest (which carries the
//! WARC's SHA-256); each lands under its final name only when complete. The export is
//! recorded in the audit log with the manifest's SHA-256.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use scamsweep_crawler::warc::{self, Record, WarcWriter};
use scamsweep_store::evidence::EvidenceFetch;
use scamsweep_store::fetches;
use scamsweep_store::{Db, audit, evidence, now_ms, sha256_hex};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Config;

/// File name of the WARC inside the bundle directory.
pub const WARC_FILE: &str = "evidence.warc";
/// File name of the manifest inside the bundle directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// `format` of the manifests this version writes.
pub const MANIFEST_FORMAT: &str = "scamsweep-evidence/1";
/// Audit action recorded for each export.
pub const AUDIT_ACTION: &str = "evidence.exported";

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    pub tool: Tool,
    /// When the bundle was written (UTC, RFC 3339).
    pub generated_at: String,
    /// Who ran the export (the audit log's actor).
    pub exported_by: String,
    pub document: ManifestDocument,
    pub versions: Vec<ManifestVersion>,
    pub fetches: Vec<ManifestFetch>,
    pub warc: ManifestWarc,
    /// How to read the bundle: what is reconstructed, what is stored decoded.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestDocument {
    pub id: i64,
    pub doc_key: String,
    pub url: String,
    pub kind: String,
    pub status: String,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub first_seen_at: String,
    pub last_seen_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestVersion {
    pub id: i64,
    pub version: i64,
    pub fetch_id: i64,
    pub title: Option<String>,
    pub language: Option<String>,
    pub author: Option<String>,
    /// When the item says it was posted (UTC, RFC 3339), if it says.
    pub posted_at: Option<String>,
    /// SHA-256 of the extracted content the version was keyed by.
    pub content_hash: String,
    pub created_at: String,
}

/// One step of a redirect chain: `url` answered `status` pointing at `location`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestHop {
    pub url: String,
    pub status: u16,
    /// The next URL requested (the redirect target, resolved against `url`).
    pub location: String,
    pub warc_request_id: String,
    pub warc_response_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestFetch {
    pub id: i64,
    pub requested_url: String,
    pub final_url: String,
    pub redirect_chain: Vec<ManifestHop>,
    pub status: u16,
    pub outcome: String,
    /// The response headers as recorded at fetch time (a selection, lower-case names).
    pub headers: serde_json::Map<String, serde_json::Value>,
    pub resolved_ip: Option<String>,
    pub started_at: String,
    pub elapsed_ms: i64,
    pub content_type: Option<String>,
    /// Hex SHA-256 of the stored (decoded) body; equals the WARC response's payload.
    pub body_sha256: String,
    pub body_size: i64,
    /// `Content-Encoding` / `Content-Length` on the wire, where recorded; the WARC response
    /// carries the decoded body without them.
    pub original_content_encoding: Option<String>,
    pub original_content_length: Option<String>,
    pub warc_request_id: String,
    pub warc_response_id: String,
    /// `WARC-Payload-Digest` of the response record (`sha256:` + base32 of `body_sha256`).
    pub warc_payload_digest: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestWarc {
    pub file: String,
    pub format: String,
    /// Hex SHA-256 of the whole WARC file.
    pub sha256: String,
    pub size: u64,
    pub records: usize,
    pub warcinfo_id: String,
}

/// Settings of an export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// User-Agent put on the reconstructed request records (the crawler's configured one).
    pub user_agent: String,
    /// Audit actor.
    pub actor: String,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            user_agent: scamsweep_crawler::FetchConfig::default().user_agent,
            actor: default_actor(),
        }
    }
}

/// `cli:$USER` (or `cli`).
fn default_actor() -> String {
    match std::env::var("USER") {
        Ok(u) if !u.is_empty() => format!("cli:{u}"),
        _ => "cli".to_string(),
    }
}

/// What [`export_with`] produced.
#[derive(Debug, Clone)]
pub struct Exported {
    pub manifest: Manifest,
    pub manifest_path: PathBuf,
    pub warc_path: PathBuf,
    /// Hex SHA-256 of `manifest.json` as written (also in the audit entry).
    pub manifest_sha256: String,
    pub audit_seq: i64,
}

/// Writes the evidence bundle of document `doc_id` into `out` with default options.
pub async fn export(db: &Db, doc_id: i64, out: &Path) -> anyhow::Result<Manifest> {
    Ok(export_with(db, doc_id, out, &ExportOptions::default())
        .await?
        .manifest)
}

/// `scamsweep evidence export DOC_ID --out DIR [--json]`: opens the configured database,
/// exports with the configured User-Agent, prints where the bundle is and its hashes
/// (or the manifest, with `json`).
pub async fn run_cli(cfg: &Config, doc_id: i64, out: &Path, json: bool) -> anyhow::Result<()> {
    let db = crate::app::open_db(cfg).await?;
    let opts = ExportOptions {
        user_agent: cfg.crawler.user_agent.clone(),
        actor: default_actor(),
    };
    let e = export_with(&db, doc_id, out, &opts).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&e.manifest)?);
    } else {
        println!(
            "evidence for document {doc_id} ({}) written to {}",
            e.manifest.document.url,
            out.display()
        );
        println!(
            "  {MANIFEST_FILE}  sha256 {}  ({} version(s), {} fetch(es))",
            e.manifest_sha256,
            e.manifest.versions.len(),
            e.manifest.fetches.len()
        );
        println!(
            "  {WARC_FILE}  sha256 {}  ({} records, {} bytes)",
            e.manifest.warc.sha256, e.manifest.warc.records, e.manifest.warc.size
        );
        println!("  audit log entry #{}", e.audit_seq);
    }
    Ok(())
}

/// A fetch with everything needed to write it, checked before any file is written.
struct Planned {
    row: EvidenceFetch,
    final_url: String,
    status: u16,
    sha: String,
    size: i64,
    hops: Vec<(String, u16, String)>,
    headers: serde_json::Map<String, serde_json::Value>,
}

/// Writes the evidence bundle of document `doc_id` into `out` (created if missing; an
/// existing non-empty directory is refused).
pub async fn export_with(
    db: &Db,
    doc_id: i64,
    out: &Path,
    opts: &ExportOptions,
) -> anyhow::Result<Exported> {
    check_out_dir(out)?;

    let doc = evidence::document(db, doc_id)
        .await?
        .with_context(|| format!("no document with id {doc_id}"))?;
    let versions = evidence::versions(db, doc_id).await?;
    if versions.is_empty() {
        bail!("document {doc_id} has no stored versions: no evidence to export");
    }
    let rows = evidence::fetches_for_document(db, doc_id).await?;
    let mut planned = Vec::with_capacity(rows.len());
    for row in rows {
        planned.push(plan(db, row).await?);
    }

    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let warc_path = out.join(WARC_FILE);
    let manifest_path = out.join(MANIFEST_FILE);
    let warc_tmp = out.join(format!(".{WARC_FILE}.partial"));
    let manifest_tmp = out.join(format!(".{MANIFEST_FILE}.partial"));
    let result = write_bundle(
        db,
        &doc,
        &versions,
        planned,
        opts,
        (&warc_tmp, &warc_path),
        (&manifest_tmp, &manifest_path),
    )
    .await;
    let (manifest, manifest_bytes) = match result {
        Ok(r) => r,
        Err(e) => {
            for p in [&warc_tmp, &manifest_tmp, &warc_path, &manifest_path] {
                let _ = fs::remove_file(p);
            }
            return Err(e);
        }
    };
    let manifest_sha256 = sha256_hex(&manifest_bytes);
    let audit_seq = audit::append(
        db,
        &opts.actor,
        AUDIT_ACTION,
        &format!("document:{doc_id}"),
        &serde_json::json!({
            "manifest_sha256": manifest_sha256,
            "warc_sha256": manifest.warc.sha256,
            "warc_size": manifest.warc.size,
            "fetch_ids": manifest.fetches.iter().map(|f| f.id).collect::<Vec<_>>(),
            "version_ids": manifest.versions.iter().map(|v| v.id).collect::<Vec<_>>(),
            "out": out.display().to_string(),
        }),
    )
    .await?;
    Ok(Exported {
        manifest,
        manifest_path,
        warc_path,
        manifest_sha256,
        audit_seq,
    })
}

/// `out` must be missing, or an empty directory.
fn check_out_dir(out: &Path) -> anyhow::Result<()> {
    match fs::metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", out.display())),
        Ok(m) if !m.is_dir() => bail!("{} exists and is not a directory", out.display()),
        Ok(_) => {
            let mut entries =
                fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
            if entries.next().is_some() {
                bail!(
                    "refusing to overwrite: {} is not empty (choose a new or empty directory)",
                    out.display()
                );
            }
            Ok(())
        }
    }
}

async fn plan(db: &Db, row: EvidenceFetch) -> anyhow::Result<Planned> {
    let id = row.id;
    let Some(sha) = row.body_sha256.clone() else {
        bail!("fetch {id} has no stored body");
    };
    let size = evidence::blob_size(db, &sha)
        .await?
        .with_context(|| format!("body {sha} of fetch {id} is missing from the blob store"))?;
    if row.body_size.is_some_and(|n| n != size) {
        bail!(
            "body {sha} of fetch {id}: stored size {size} differs from the recorded {}",
            row.body_size.unwrap_or_default()
        );
    }
    let status = row
        .status
        .and_then(|s| u16::try_from(s).ok())
        .with_context(|| format!("fetch {id} has no HTTP status"))?;
    let final_url = row
        .final_url
        .clone()
        .unwrap_or_else(|| row.requested_url.clone());
    let chain: Vec<serde_json::Value> = serde_json::from_str(&row.redirect_chain)
        .with_context(|| format!("fetch {id}: redirect chain is not a JSON array"))?;
    let mut hops = Vec::with_capacity(chain.len());
    for (i, h) in chain.iter().enumerate() {
        let url = h.get("url").and_then(|v| v.as_str());
        let st = h
            .get("status")
            .and_then(|v| v.as_u64())
            .and_then(|s| u16::try_from(s).ok());
        let (Some(url), Some(st)) = (url, st) else {
            bail!("fetch {id}: redirect hop {i} lacks url or status");
        };
        let next = match chain.get(i + 1) {
            Some(n) => n
                .get("url")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            None => final_url.clone(),
        };
        hops.push((url.to_string(), st, next));
    }
    let headers: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row.headers)
        .with_context(|| format!("fetch {id}: headers are not a JSON object"))?;
    Ok(Planned {
        row,
        final_url,
        status,
        sha,
        size,
        hops,
        headers,
    })
}

fn header_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn header_lookup(
    headers: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| header_value(v))
}

/// A reconstructed request record for `url`.
fn request_record(seed: &str, at: i64, url: &str, ua: &str) -> anyhow::Result<Record> {
    let parsed = Url::parse(url).with_context(|| format!("`{url}` is not a valid URL"))?;
    Ok(Record::request(seed, at, &parsed, ua))
}

fn notes() -> Vec<String> {
    vec![
        "Request records are reconstructed from the fetch log: method GET, the Host header and \
         the crawler's configured User-Agent. Other request headers the crawler sent (Accept, \
         Accept-Encoding) are not recorded and not shown."
            .into(),
        "Response bodies are stored as received after HTTP content and transfer decoding. The \
         WARC response records carry that stored body with Content-Encoding and \
         Transfer-Encoding removed and Content-Length set to the stored size; the wire \
         encoding, where recorded, is in fetches[].original_content_encoding."
            .into(),
        "Response headers are the selection the crawler keeps as evidence, not the full set. \
         Status lines carry the status code recorded and its standard reason phrase."
            .into(),
        "Redirect hops are response records with the status and the Location the crawler \
         followed (resolved to an absolute URL), without a body. WARC-IP-Address is the \
         address the final response came from; it is not recorded for hops."
            .into(),
        "Digests: WARC-Block-Digest and WARC-Payload-Digest are sha256 in RFC 4648 base32; \
         body_sha256 and warc.sha256 in this manifest are hex. Record dates are the fetch's \
         start time, to the second; manifest times are UTC RFC 3339 to the millisecond."
            .into(),
    ]
}

async fn write_bundle(
    db: &Db,
    doc: &evidence::DocumentRow,
    versions: &[evidence::VersionMeta],
    planned: Vec<Planned>,
    opts: &ExportOptions,
    (warc_tmp, warc_path): (&Path, &Path),
    (manifest_tmp, manifest_path): (&Path, &Path),
) -> anyhow::Result<(Manifest, Vec<u8>)> {
    let generated_ms = now_ms();
    let software = format!("scamsweep/{}", env!("CARGO_PKG_VERSION"));
    let file =
        File::create(warc_tmp).with_context(|| format!("creating {}", warc_tmp.display()))?;
    let mut w = WarcWriter::new(BufWriter::new(file));

    let description = format!(
        "evidence for scamsweep document {} ({}), exported by {}",
        doc.id, doc.doc_key, opts.actor
    );
    let info = Record::warcinfo(
        &format!("scamsweep:document:{}:warcinfo", doc.id),
        generated_ms,
        WARC_FILE,
        &[
            ("software", &software),
            ("format", "WARC File Format 1.1"),
            (
                "conformsTo",
                "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            ),
            ("operator", &opts.actor),
            ("description", &description),
            ("http-header-user-agent", &opts.user_agent),
            ("robots", "obey"),
            (
                "note",
                "request records are reconstructed (GET, Host, User-Agent); response bodies are \
                 stored decoded, without Content-Encoding, Content-Length set to their size; \
                 see manifest.json",
            ),
        ],
    );
    w.write(&info)?;

    let mut fetch_entries = Vec::with_capacity(planned.len());
    for p in planned {
        let f = &p.row;
        let at = f.started_at;
        let mut hop_entries = Vec::with_capacity(p.hops.len());
        for (i, (url, status, location)) in p.hops.iter().enumerate() {
            let req = request_record(
                &format!("scamsweep:fetch:{}:hop:{i}:request", f.id),
                at,
                url,
                &opts.user_agent,
            )?;
            let resp = Record::response(
                &format!("scamsweep:fetch:{}:hop:{i}:response", f.id),
                at,
                url,
                *status,
                &[("Location".to_string(), location.clone())],
                b"",
            );
            let req = req.with_field("WARC-Concurrent-To", &resp.id);
            let resp = resp.with_field("WARC-Concurrent-To", &req.id);
            w.write(&req)?;
            w.write(&resp)?;
            hop_entries.push(ManifestHop {
                url: url.clone(),
                status: *status,
                location: location.clone(),
                warc_request_id: req.id.clone(),
                warc_response_id: resp.id.clone(),
            });
        }

        let body = fetches::get_blob(db, &p.sha).await?.with_context(|| {
            format!(
                "body {} of fetch {} is missing from the blob store",
                p.sha, f.id
            )
        })?;
        let stored: Vec<(String, String)> = p
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), header_value(v)))
            .collect();
        let headers = warc::headers_for_decoded_body(&stored, body.len());
        let mut req = request_record(
            &format!("scamsweep:fetch:{}:request", f.id),
            at,
            &p.final_url,
            &opts.user_agent,
        )?;
        let mut resp = Record::response(
            &format!("scamsweep:fetch:{}:response", f.id),
            at,
            &p.final_url,
            p.status,
            &headers,
            &body,
        );
        drop(body);
        if let Some(ip) = &f.resolved_ip {
            req = req.with_field("WARC-IP-Address", ip);
            resp = resp.with_field("WARC-IP-Address", ip);
        }
        let req = req.with_field("WARC-Concurrent-To", &resp.id);
        let resp = resp.with_field("WARC-Concurrent-To", &req.id);
        w.write(&req)?;
        w.write(&resp)?;
        let payload_digest = resp.payload_digest().unwrap_or_default();

        fetch_entries.push(ManifestFetch {
            id: f.id,
            requested_url: f.requested_url.clone(),
            final_url: p.final_url.clone(),
            redirect_chain: hop_entries,
            status: p.status,
            outcome: f.outcome.clone(),
            original_content_encoding: header_lookup(&p.headers, "content-encoding"),
            original_content_length: header_lookup(&p.headers, "content-length"),
            headers: p.headers,
            resolved_ip: f.resolved_ip.clone(),
            started_at: warc::rfc3339_ms(f.started_at),
            elapsed_ms: f.elapsed_ms,
            content_type: f.content_type.clone(),
            body_sha256: p.sha.clone(),
            body_size: p.size,
            warc_request_id: req.id.clone(),
            warc_response_id: resp.id.clone(),
            warc_payload_digest: payload_digest,
        });
    }

    let written = w.finish()?;
    let file = written
        .inner
        .into_inner()
        .map_err(|e| e.into_error())
        .context("writing the WARC")?;
    file.sync_all().context("syncing the WARC")?;
    drop(file);
    fs::rename(warc_tmp, warc_path)
        .with_context(|| format!("renaming {} into place", warc_tmp.display()))?;

    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        tool: Tool {
            name: "scamsweep".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        generated_at: warc::rfc3339_ms(generated_ms),
        exported_by: opts.actor.clone(),
        document: ManifestDocument {
            id: doc.id,
            doc_key: doc.doc_key.clone(),
            url: doc.url.clone(),
            kind: doc.kind.clone(),
            status: doc.status.clone(),
            label: doc.label.clone(),
            score: doc.score,
            first_seen_at: warc::rfc3339_ms(doc.first_seen_at),
            last_seen_at: warc::rfc3339_ms(doc.last_seen_at),
        },
        versions: versions
            .iter()
            .map(|v| ManifestVersion {
                id: v.id,
                version: v.version,
                fetch_id: v.fetch_id,
                title: v.title.clone(),
                language: v.language.clone(),
                author: v.author.clone(),
                posted_at: v.posted_at.map(warc::rfc3339_ms),
                content_hash: v.content_hash.clone(),
                created_at: warc::rfc3339_ms(v.created_at),
            })
            .collect(),
        fetches: fetch_entries,
        warc: ManifestWarc {
            file: WARC_FILE.into(),
            format: warc::WARC_VERSION.into(),
            sha256: written.sha256,
            size: written.bytes,
            records: written.records,
            warcinfo_id: info.id.clone(),
        },
        notes: notes(),
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest)?;
    bytes.push(b'\n');
    let mut mf = File::create(manifest_tmp)
        .with_context(|| format!("creating {}", manifest_tmp.display()))?;
    mf.write_all(&bytes)?;
    mf.sync_all().context("syncing the manifest")?;
    drop(mf);
    fs::rename(manifest_tmp, manifest_path)
        .with_context(|| format!("renaming {} into place", manifest_tmp.display()))?;
    if let Some(dir) = manifest_path.parent()
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok((manifest, bytes))
}
