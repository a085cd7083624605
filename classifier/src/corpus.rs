//! The labelled corpus: JSONL examples (`id`, `text`, `label`, `channel`, `lang`,
//! `provenance`), loaded from a file or a directory of `*.jsonl` files, validated, hashed and
//! summarised for the model card.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::text::has_vietnamese_marks;
use crate::{ClassifierError, LABELS};

pub const CHANNELS: [&str; 6] = [
    "web",
    "telegram",
    "app_listing",
    "group_post",
    "sms",
    "email",
];
pub const LANGS: [&str; 2] = ["vi", "en"];

/// One labelled example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub id: String,
    pub text: String,
    pub label: String,
    pub channel: String,
    pub lang: String,
    /// `handwritten:<writer>` or `template:<generator>`.
    pub provenance: String,
}

impl Example {
    pub fn label_index(&self) -> usize {
        LABELS
            .iter()
            .position(|l| *l == self.label)
            .unwrap_or(crate::BENIGN)
    }

    /// Evaluation group: `en`, `vi_marked` (with diacritics) or `vi_plain` (without).
    pub fn group(&self) -> &'static str {
        if self.lang == "en" {
            "en"
        } else if has_vietnamese_marks(&self.text) {
            "vi_marked"
        } else {
            "vi_plain"
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("empty id".into());
        }
        if self.text.trim().is_empty() {
            return Err("empty text".into());
        }
        if !LABELS.contains(&self.label.as_str()) {
            return Err(format!("unknown label {:?}", self.label));
        }
        if !CHANNELS.contains(&self.channel.as_str()) {
            return Err(format!("unknown channel {:?}", self.channel));
        }
        if !LANGS.contains(&self.lang.as_str()) {
            return Err(format!("unknown lang {:?}", self.lang));
        }
        let (kind, who) = self.provenance.split_once(':').unwrap_or(("", ""));
        if !matches!(kind, "handwritten" | "template") || who.is_empty() {
            return Err(format!(
                "provenance {:?} is not handwritten:<writer> or template:<generator>",
                self.provenance
            ));
        }
        Ok(())
    }
}

/// The `*.jsonl` files of `path` (itself if it is a file), sorted by name.
pub fn files(path: &Path) -> Result<Vec<PathBuf>, ClassifierError> {
    let err = |e: std::io::Error| ClassifierError::Data(format!("{}: {e}", path.display()));
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(ClassifierError::Data(format!(
            "{}: no .jsonl files",
            path.display()
        )));
    }
    Ok(out)
}

/// Loads and validates every example under `path`. Any invalid line, duplicate id or
/// duplicate text is an error naming the file and line: a corpus is data the model is built
/// from, so nothing is skipped silently.
pub fn load(path: &Path) -> Result<Vec<Example>, ClassifierError> {
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    let mut texts = HashSet::new();
    for file in files(path)? {
        let raw = std::fs::read_to_string(&file)
            .map_err(|e| ClassifierError::Data(format!("{}: {e}", file.display())))?;
        for (n, line) in raw.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = || format!("{}:{}", file.display(), n + 1);
            let ex: Example = serde_json::from_str(line)
                .map_err(|e| ClassifierError::Data(format!("{}: {e}", at())))?;
            ex.check()
                .map_err(|e| ClassifierError::Data(format!("{}: {e}", at())))?;
            if !ids.insert(ex.id.clone()) {
                return Err(ClassifierError::Data(format!(
                    "{}: duplicate id {}",
                    at(),
                    ex.id
                )));
            }
            let key = ex
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            if !texts.insert(key) {
                return Err(ClassifierError::Data(format!("{}: duplicate text", at())));
            }
            out.push(ex);
        }
    }
    Ok(out)
}

/// SHA-256 over the examples' ids, labels and texts, in load order.
pub fn data_hash(examples: &[Example]) -> String {
    let mut h = Sha256::new();
    for e in examples {
        for part in [&e.id, &e.label, &e.text] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
    }
    hex::encode(h.finalize())
}

/// Counts for the model card and the corpus checks.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Stats {
    pub examples: usize,
    pub by_label: BTreeMap<String, usize>,
    pub by_group: BTreeMap<String, usize>,
    pub by_channel: BTreeMap<String, usize>,
    pub by_length: BTreeMap<String, usize>,
    pub by_provenance: BTreeMap<String, usize>,
    pub english_share: f64,
    pub template_share: f64,
    /// Largest share of the corpus coming from one template.
    pub largest_template_share: f64,
}

pub fn length_bucket(text: &str) -> &'static str {
    match text.chars().count() {
        0..120 => "short (<120 chars)",
        120..600 => "medium (120-599)",
        _ => "long (600+)",
    }
}

pub fn stats(examples: &[Example]) -> Stats {
    let mut s = Stats {
        examples: examples.len(),
        ..Stats::default()
    };
    for e in examples {
        *s.by_label.entry(e.label.clone()).or_default() += 1;
        *s.by_group.entry(e.group().to_string()).or_default() += 1;
        *s.by_channel.entry(e.channel.clone()).or_default() += 1;
        *s.by_length
            .entry(length_bucket(&e.text).to_string())
            .or_default() += 1;
        *s.by_provenance.entry(e.provenance.clone()).or_default() += 1;
    }
    let n = examples.len().max(1) as f64;
    s.english_share = s.by_group.get("en").copied().unwrap_or(0) as f64 / n;
    let templates: Vec<usize> = s
        .by_provenance
        .iter()
        .filter(|(k, _)| k.starts_with("template:"))
        .map(|(_, v)| *v)
        .collect();
    s.template_share = templates.iter().sum::<usize>() as f64 / n;
    s.largest_template_share = templates.iter().copied().max().unwrap_or(0) as f64 / n;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &str) {
        std::fs::write(dir.join(name), body).unwrap();
    }

    fn line(id: &str, text: &str, label: &str) -> String {
        serde_json::json!({"id": id, "text": text, "label": label, "channel": "sms",
            "lang": "vi", "provenance": "handwritten:test"})
        .to_string()
    }

    #[test]
    fn loads_sorted_files_and_rejects_bad_lines_with_their_place() {
        let dir = std::env::temp_dir().join(format!("scamsweep-corpus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        write(
            &dir,
            "b.jsonl",
            &format!("{}\n", line("b1", "xin chao", "benign")),
        );
        write(
            &dir,
            "a.jsonl",
            &format!("{}\n\n", line("a1", "lãi 3%/ngày", "investment_fraud")),
        );
        let ex = load(&dir).unwrap();
        assert_eq!(
            ex.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["a1", "b1"]
        );
        assert_eq!(ex[0].group(), "vi_marked");
        assert_eq!(ex[1].group(), "vi_plain");
        let h = data_hash(&ex);
        assert_eq!(h, data_hash(&load(&dir).unwrap()));

        write(
            &dir,
            "c.jsonl",
            &format!("{}\n{{oops\n", line("c1", "khác", "benign")),
        );
        let e = load(&dir).unwrap_err().to_string();
        assert!(e.contains("c.jsonl:2"), "{e}");
        write(
            &dir,
            "c.jsonl",
            &format!("{}\n", line("c1", "XIN   chao", "benign")),
        );
        let e = load(&dir).unwrap_err().to_string();
        assert!(e.contains("duplicate text"), "{e}");
        write(&dir, "c.jsonl", &format!("{}\n", line("c1", "x", "spam")));
        assert!(
            load(&dir)
                .unwrap_err()
                .to_string()
                .contains("unknown label")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
