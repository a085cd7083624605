//! The corpus in `classifier/data/` meets what the model card and issue promise: sizes per
//! class, hard negatives, English share, template limits, and a test split that shares no
//! text and no writer with the training data.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use scamsweep_classifier::corpus::{self, Example};

fn data(split: &str) -> Vec<Example> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(split);
    corpus::load(&dir).unwrap_or_else(|e| panic!("{split}: {e}"))
}

/// Writers whose brief was benign texts that look like scams (see data/README.md).
const HARD_NEGATIVE_WRITERS: [&str; 5] = [
    "handwritten:writer-hardneg",
    "handwritten:writer-hardneg-2",
    "handwritten:writer-benign-lookalike-vi",
    "handwritten:writer-benign-lookalike-en",
    "handwritten:writer-lookalike-2",
];

#[test]
fn training_split_sizes() {
    let train = data("train");
    let s = corpus::stats(&train);
    assert!(s.examples >= 4000, "{}", s.examples);
    for l in [
        "investment_fraud",
        "job_scam",
        "impersonation",
        "other_fraud",
    ] {
        assert!(s.by_label[l] >= 600, "{l}: {}", s.by_label[l]);
    }
    assert!(s.by_label["benign"] >= 2000, "{:?}", s.by_label);
    let hard = train
        .iter()
        .filter(|e| e.label == "benign" && HARD_NEGATIVE_WRITERS.contains(&e.provenance.as_str()))
        .count();
    assert!(hard >= 600, "hard negatives: {hard}");
    assert!(s.english_share >= 0.20, "english {}", s.english_share);
    assert!(
        s.template_share <= 0.40 && s.largest_template_share <= 0.02,
        "{s:?}"
    );
    // Both written forms of Vietnamese, every channel, every length.
    assert!(
        s.by_group["vi_plain"] >= 800 && s.by_group["vi_marked"] >= 1500,
        "{:?}",
        s.by_group
    );
    assert_eq!(s.by_channel.len(), 6, "{:?}", s.by_channel);
    for (k, v) in &s.by_length {
        assert!(*v as f64 >= 0.1 * s.examples as f64, "{k}: {v}");
    }
}

#[test]
fn test_split_is_independent_of_training() {
    let train = data("train");
    let test = data("test");
    assert!(test.len() >= 800, "{}", test.len());
    let norm = |t: &str| {
        t.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let train_texts: HashSet<String> = train.iter().map(|e| norm(&e.text)).collect();
    let train_ids: HashSet<&str> = train.iter().map(|e| e.id.as_str()).collect();
    let train_writers: HashSet<&str> = train.iter().map(|e| e.provenance.as_str()).collect();
    for e in &test {
        assert!(
            !train_texts.contains(&norm(&e.text)),
            "{} also in training",
            e.id
        );
        assert!(!train_ids.contains(e.id.as_str()), "{}", e.id);
        assert!(
            !train_writers.contains(e.provenance.as_str()),
            "{}: {}",
            e.id,
            e.provenance
        );
    }
    // Every label and every language group is represented.
    let mut cells: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for e in &test {
        *cells.entry((e.label.as_str(), e.group())).or_default() += 1;
    }
    for l in scamsweep_classifier::LABELS {
        for g in ["en", "vi_marked", "vi_plain"] {
            assert!(
                cells.get(&(l, g)).copied().unwrap_or(0) >= 10,
                "{l}/{g}: {cells:?}"
            );
        }
    }
}

#[test]
fn near_duplicates_are_rare() {
    // Shared 8-syllable shingles: a text whose shingles mostly appear in one other text
    // is a near copy.
    let train = data("train");
    let shingles = |t: &str| -> HashSet<String> {
        let w: Vec<String> = t.split_whitespace().map(str::to_lowercase).collect();
        w.windows(8).map(|s| s.join(" ")).collect()
    };
    let sets: Vec<HashSet<String>> = train.iter().map(|e| shingles(&e.text)).collect();
    let mut owner: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut near = 0;
    for (i, s) in sets.iter().enumerate() {
        if s.len() < 4 {
            continue;
        }
        let mut hits: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        for sh in s {
            if let Some(&j) = owner.get(sh.as_str()) {
                *hits.entry(j).or_default() += 1;
            }
        }
        if hits.values().any(|&h| h * 2 > s.len()) {
            near += 1;
        }
        for sh in s {
            owner.entry(sh.as_str()).or_insert(i);
        }
    }
    assert!(
        near * 100 <= train.len(),
        "{near} near-duplicate texts in {}",
        train.len()
    );
}
