//! Hashed n-gram features: syllable unigrams and bigrams and character n-grams of each
//! token, on both views of [`crate::text`], hashed into `2^buckets_log2` buckets.
//!
//! Every feature has its own namespace (kind, view, n) in the hash, so `tu` as a syllable and
//! `tu` as a character bigram of the plain view land in unrelated buckets. Character n-grams
//! are taken over `<token>` with boundary markers, fastText style. The hash is a fixed
//! FxHash-style mix with a murmur finaliser: stable across platforms and releases, because
//! the trained weights are indexed by it.

use serde::{Deserialize, Serialize};

use crate::text::Tokens;

/// Which features a model uses; stored in its `config.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// log2 of the number of hash buckets (rows of the embedding table).
    pub buckets_log2: u32,
    /// Smallest and largest character n-gram.
    pub char_ngrams: [usize; 2],
    /// Longest syllable n-gram (1 = unigrams only, 2 = with bigrams).
    pub word_ngrams: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            buckets_log2: 19,
            char_ngrams: [2, 4],
            word_ngrams: 2,
        }
    }
}

impl FeatureConfig {
    pub fn buckets(&self) -> usize {
        1usize << self.buckets_log2
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(8..=24).contains(&self.buckets_log2) {
            return Err(format!(
                "buckets_log2 {} is outside 8..=24",
                self.buckets_log2
            ));
        }
        let [lo, hi] = self.char_ngrams;
        if lo == 0 || lo > hi || hi > 8 {
            return Err(format!(
                "char_ngrams {lo}..={hi} must satisfy 1 <= lo <= hi <= 8"
            ));
        }
        if !(1..=3).contains(&self.word_ngrams) {
            return Err(format!("word_ngrams {} is outside 1..=3", self.word_ngrams));
        }
        Ok(())
    }
}

const MUL: u64 = 0x517c_c1b7_2722_0a95;
/// Boundary markers outside the Unicode range, so they never collide with text.
const BOW: u64 = 0x11_0000;
const EOW: u64 = 0x11_0001;

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(MUL)
}

#[inline]
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
fn seed(kind: u64, view: usize, n: usize) -> u64 {
    finish((kind << 16) | ((view as u64) << 8) | n as u64)
}

const KIND_WORD: u64 = 1;
const KIND_CHAR: u64 = 2;

/// Where a feature came from: tokens `first .. first + len` of the tokenised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub first: usize,
    pub len: usize,
}

/// Calls `sink(bucket, origin, weight)` for every feature occurrence of `tokens`.
///
/// Weights follow fastText: every syllable n-gram is one unit of weight 1; a token's
/// character n-grams share the unit of that token's unigram (each gets `1 / (1 + grams)`),
/// so long words do not drown short ones and whole words keep their say.
pub fn for_each_feature(
    cfg: &FeatureConfig,
    tokens: &Tokens,
    mut sink: impl FnMut(u32, Origin, f32),
) {
    let shift = 64 - cfg.buckets_log2;
    let bucket = |h: u64| (finish(h) >> shift) as u32;
    let [lo, hi] = cfg.char_ngrams;
    let mut grams: Vec<u64> = Vec::with_capacity(64);
    for view in 0..2 {
        let word_seeds: Vec<u64> = (1..=cfg.word_ngrams)
            .map(|n| seed(KIND_WORD, view, n))
            .collect();
        let char_seeds: Vec<u64> = (lo..=hi).map(|n| seed(KIND_CHAR, view, n)).collect();
        // Rolling window of the last `word_ngrams` token hashes.
        let mut window: Vec<(u64, u8)> = Vec::with_capacity(cfg.word_ngrams);
        for (i, t) in tokens.tokens.iter().enumerate() {
            let chars = if view == 0 {
                tokens.marked(t)
            } else {
                tokens.plain(t)
            };
            let mut h = 0u64;
            for &c in chars {
                h = mix(h, c as u64);
            }
            if window.last().is_some_and(|(_, seg)| *seg != t.segment) {
                window.clear();
            }
            if window.len() == cfg.word_ngrams {
                window.remove(0);
            }
            window.push((h, t.segment));
            grams.clear();
            grams.push(BOW);
            grams.extend(chars.iter().map(|c| *c as u64));
            grams.push(EOW);
            let n_grams: usize = (lo..=hi).map(|n| (grams.len() + 1).saturating_sub(n)).sum();
            let share = 1.0 / (1 + n_grams) as f32;
            for n in 1..=window.len() {
                let mut g = word_seeds[n - 1];
                for (wh, _) in &window[window.len() - n..] {
                    g = mix(g, *wh);
                }
                sink(
                    bucket(g),
                    Origin {
                        first: i + 1 - n,
                        len: n,
                    },
                    if n == 1 { share } else { 1.0 },
                );
            }
            let origin = Origin { first: i, len: 1 };
            for (k, n) in (lo..=hi).enumerate() {
                if grams.len() < n {
                    break;
                }
                for w in grams.windows(n) {
                    let mut g = char_seeds[k];
                    for &c in w {
                        g = mix(g, c);
                    }
                    sink(bucket(g), origin, share);
                }
            }
        }
    }
}

/// The features of one document as a bag: unique buckets (in first-seen order) and their
/// weights (summed occurrence weights over the total, so a document's weights sum to 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bag {
    pub ids: Vec<u32>,
    pub weights: Vec<f32>,
}

impl Bag {
    /// Position of each bucket in `ids`.
    pub fn positions(&self) -> std::collections::HashMap<u32, usize> {
        self.ids.iter().enumerate().map(|(i, b)| (*b, i)).collect()
    }
}

/// Feature extraction with reusable scratch space (one per thread): the token buffers and a
/// bucket → position table stamped per document, so merging repeated features is O(1) per
/// occurrence with no sorting and no clearing.
#[derive(Debug, Default)]
pub struct Featurizer {
    tokens: Tokens,
    stamp: Vec<u32>,
    position: Vec<u32>,
    generation: u32,
}

impl Featurizer {
    /// The bag of a document made of `segments` (title, text); empty segments are skipped.
    pub fn bag(&mut self, cfg: &FeatureConfig, segments: &[&str]) -> Bag {
        self.tokenize(segments);
        let buckets = cfg.buckets();
        if self.stamp.len() != buckets {
            self.stamp = vec![0; buckets];
            self.position = vec![0; buckets];
            self.generation = 0;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.fill(0);
            self.generation = 1;
        }
        let generation = self.generation;
        let (stamp, position) = (&mut self.stamp, &mut self.position);
        let mut bag = Bag::default();
        let mut total = 0f32;
        for_each_feature(cfg, &self.tokens, |b, _, w| {
            let b_ = b as usize;
            total += w;
            if stamp[b_] == generation {
                bag.weights[position[b_] as usize] += w;
            } else {
                stamp[b_] = generation;
                position[b_] = bag.ids.len() as u32;
                bag.ids.push(b);
                bag.weights.push(w);
            }
        });
        if total > 0.0 {
            for w in &mut bag.weights {
                *w /= total;
            }
        }
        bag
    }

    /// Tokenises `segments` into the scratch buffers and returns them.
    pub fn tokenize(&mut self, segments: &[&str]) -> &Tokens {
        self.tokens.clear();
        for (i, s) in segments.iter().enumerate() {
            self.tokens.push_segment(s, i as u8);
        }
        &self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    fn count(text: &str) -> usize {
        let cfg = FeatureConfig::default();
        let mut n = 0;
        for_each_feature(&cfg, &tokenize(text), |_, _, _| n += 1);
        n
    }

    #[test]
    fn feature_counts_follow_the_definition() {
        // One token "ab": per view 1 unigram + char grams of "<ab>" (3 bigrams, 2 trigrams,
        // 1 four-gram) = 7; two views = 14.
        assert_eq!(count("ab"), 14);
        // Two tokens add a syllable bigram per view.
        assert_eq!(count("ab ab"), 14 * 2 + 2);
        assert_eq!(count(""), 0);
    }

    #[test]
    fn diacritic_and_plain_text_share_the_plain_view() {
        let cfg = FeatureConfig::default();
        let mut f = Featurizer::default();
        let a = f.bag(&cfg, &["lợi nhuận cao"]);
        let b = f.bag(&cfg, &["loi nhuan cao"]);
        let pb = b.positions();
        let shared = a.ids.iter().filter(|i| pb.contains_key(i)).count();
        assert!(shared * 2 >= a.ids.len().min(b.ids.len()) - 2, "{shared}");
        assert_ne!(a, b);
        let sum: f32 = a.weights.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }

    #[test]
    fn hashing_is_stable() {
        // The trained weights are indexed by these values: a change here breaks every model.
        let cfg = FeatureConfig::default();
        let mut f = Featurizer::default();
        // "stk": per view 1 unigram + 4 + 3 + 2 char n-grams of "<stk>".
        let bag = f.bag(&cfg, &["stk"]);
        assert_eq!(bag.ids.len(), 20);
        let mut first = Vec::new();
        for_each_feature(&cfg, &tokenize("stk"), |b, _, _| first.push(b));
        assert_eq!(first[0], bucket_of_word("stk"));
        assert_eq!(&first[..3], PINNED, "the feature hash changed");
    }

    const PINNED: &[u32] = &[260075, 259596, 337142];

    fn bucket_of_word(w: &str) -> u32 {
        let mut h = 0u64;
        for c in w.chars() {
            h = mix(h, c as u64);
        }
        (finish(mix(seed(KIND_WORD, 0, 1), h)) >> (64 - 19)) as u32
    }

    #[test]
    fn repeated_features_merge_and_scratch_is_reused() {
        let cfg = FeatureConfig::default();
        let mut f = Featurizer::default();
        let once = f.bag(&cfg, &["lãi"]);
        let twice = f.bag(&cfg, &["lãi lãi"]);
        // The same unigram and grams, plus one bigram "lãi lãi" per view.
        assert_eq!(twice.ids.len(), once.ids.len() + 2);
        let again = f.bag(&cfg, &["lãi"]);
        assert_eq!(again, once);
    }

    #[test]
    fn segments_do_not_form_bigrams_across() {
        let cfg = FeatureConfig::default();
        let mut f = Featurizer::default();
        let joined = f.bag(&cfg, &["ab ab"]).ids.len();
        let split = f.bag(&cfg, &["ab", "ab"]).ids.len();
        assert!(split < joined);
    }
}
