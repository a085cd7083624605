//! The shipped model (`models/ngram-vi`) and training: known examples of each class, hostile
//! inputs, explanations, save/load round trip and determinism.

use std::path::PathBuf;

use scamsweep_classifier::corpus::{self, Example};
use scamsweep_classifier::features::{FeatureConfig, Featurizer};
use scamsweep_classifier::ngram::NgramModel;
use scamsweep_classifier::train::{Silent, TrainConfig, train};
use scamsweep_classifier::{Classifier, Input, LABELS, default_model_dir};

fn shipped() -> NgramModel {
    NgramModel::load(&default_model_dir()).expect("the shipped model loads")
}

fn label(m: &NgramModel, text: &str) -> &'static str {
    m.classify_batch(&[Input { title: None, text }], false)
        .unwrap()[0]
        .label
}

#[test]
fn known_examples_of_each_class() {
    // Written for this test, not taken from the corpus.
    let m = shipped();
    let cases = [
        (
            "Tham gia nhóm VIP của thầy Minh, nạp tối thiểu 500 USDT, cam kết lợi nhuận 5%/ngày, rút vốn bất cứ lúc nào.",
            "investment_fraud",
        ),
        (
            "tham gia nhom vip cua thay minh, nap toi thieu 500 usdt, cam ket loi nhuan 5%/ngay",
            "investment_fraud",
        ),
        (
            "Tuyển CTV làm tại nhà, thả tim video TikTok nhận 15k/nhiệm vụ, cần nạp 200k kích hoạt tài khoản nhận đơn.",
            "job_scam",
        ),
        (
            "Hire now: like and follow TikTok videos from home, earn 300k a day, pay a 150k deposit to unlock tasks. Message our HR on Telegram.",
            "job_scam",
        ),
        (
            "[Vietcombank] Tài khoản của quý khách sẽ bị tạm khóa sau 24h do chưa cập nhật sinh trắc học. Cập nhật tại vcb-sinhtrac.top",
            "impersonation",
        ),
        (
            "Day la Cong an quan 3, anh lien quan den vu an rua tien, yeu cau chuyen toan bo tien vao tai khoan tam giu de xac minh, khong duoc noi voi ai.",
            "impersonation",
        ),
        (
            "Xả kho iPhone 15 Pro Max chỉ 4 triệu, số lượng có hạn, chuyển khoản cọc 50% giữ hàng, shop không nhận COD.",
            "other_fraud",
        ),
        (
            "Cong an tinh canh bao: thu doan gia danh nhan vien ngan hang yeu cau cap nhat sinh trac hoc. Nguoi dan khong bam vao duong link la, khong cung cap ma OTP.",
            "benign",
        ),
        (
            "Quán cà phê bên hồ tuyển nhân viên phục vụ ca tối, 25k/giờ, có phụ cấp gửi xe. Liên hệ quản lý tại quán, 12 Lê Lợi.",
            "benign",
        ),
        (
            "The Hanoi farmers' market opens this Sunday from 7am at the old stadium. Bring your own bags!",
            "benign",
        ),
    ];
    let mut wrong = Vec::new();
    for (text, want) in cases {
        let got = label(&m, text);
        if got != want {
            wrong.push(format!("{want} → {got}: {text}"));
        }
    }
    // The model may miss one of ten; more means it is broken.
    assert!(wrong.len() <= 1, "misclassified:\n{}", wrong.join("\n"));
}

#[test]
fn probabilities_are_a_distribution_and_the_id_is_name_at_version() {
    let m = shipped();
    let p = &m
        .classify_batch(
            &[Input {
                title: Some("Tiêu đề"),
                text: "nội dung",
            }],
            false,
        )
        .unwrap()[0];
    let sum: f32 = p.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    assert!(p.probabilities.iter().all(|x| (0.0..=1.0).contains(x)));
    assert_eq!(m.id(), format!("ngram-vi@{}", m.config.version));
    assert_eq!(m.config.version.len(), 12);
}

#[test]
fn empty_and_symbol_only_texts_are_benign_with_no_phrases() {
    let m = shipped();
    for text in ["", "   \n\t", "🔥🔥🔥 !!! ...", "\u{0301}\u{0300}"] {
        let p = &m
            .classify_batch(&[Input { title: None, text }], true)
            .unwrap()[0];
        assert_eq!(p.label, "benign", "{text:?}");
        assert!(p.spans.is_empty());
    }
}

#[test]
fn a_one_megabyte_text_is_classified_and_explained() {
    let m = shipped();
    let unit = "Nạp USDT vào sàn quốc tế, lợi nhuận ổn định mỗi ngày, liên hệ Zalo 0912 345 678. ";
    let text = unit.repeat((1 << 20) / unit.len() + 1);
    assert!(text.len() > 1 << 20);
    let p = &m
        .classify_batch(
            &[Input {
                title: None,
                text: &text,
            }],
            true,
        )
        .unwrap()[0];
    assert_ne!(p.label, "benign");
    assert!(!p.spans.is_empty());
    let chars: Vec<char> = text.chars().collect();
    for s in &p.spans {
        assert!(s.start < s.end && s.end <= chars.len());
        assert_eq!(chars[s.start..s.end].iter().collect::<String>(), s.phrase);
    }
}

#[test]
fn explanations_point_at_the_driving_phrases_in_character_offsets() {
    let m = shipped();
    // Diacritics and an emoji before the phrase make byte and char offsets differ.
    let text = "🎉 Chúc mừng! Đầu tư ngay hôm nay: cam kết lợi nhuận 30%/tháng, không rủi ro, nạp USDT qua ví TRC20.";
    let p = &m
        .classify_batch(
            &[Input {
                title: Some("Sàn vàng"),
                text,
            }],
            true,
        )
        .unwrap()[0];
    assert_eq!(p.label, "investment_fraud", "{p:?}");
    assert!(!p.spans.is_empty() && p.spans.len() <= 6);
    let chars: Vec<char> = text.chars().collect();
    for s in &p.spans {
        assert_eq!(
            chars[s.start..s.end].iter().collect::<String>(),
            s.phrase,
            "{s:?}"
        );
        assert!(s.weight > 0.0);
        assert_eq!(s.label, "investment_fraud");
    }
    let all: String = p
        .spans
        .iter()
        .map(|s| s.phrase.to_lowercase())
        .collect::<Vec<_>>()
        .join(" | ");
    assert!(
        ["lợi nhuận", "usdt", "trc", "rủi ro", "cam kết", "ví", "nạp"]
            .iter()
            .any(|w| all.contains(w)),
        "phrases do not name the investment cues: {all}"
    );
}

#[test]
fn diacritics_do_not_decide_the_label() {
    let m = shipped();
    let pairs = [
        (
            "Việc nhẹ lương cao, làm nhiệm vụ chốt đơn nhận hoa hồng 20%, nạp trước 500k.",
            "Viec nhe luong cao, lam nhiem vu chot don nhan hoa hong 20%, nap truoc 500k.",
        ),
        (
            "Tài khoản của bạn bị khóa, vui lòng cung cấp mã OTP để mở khóa.",
            "Tai khoan cua ban bi khoa, vui long cung cap ma OTP de mo khoa.",
        ),
    ];
    for (marked, plain) in pairs {
        assert_eq!(label(&m, marked), label(&m, plain), "{marked}");
        assert_ne!(label(&m, plain), "benign", "{plain}");
    }
}

fn tiny_corpus() -> Vec<Example> {
    let mut v = Vec::new();
    let texts = [
        (
            "investment_fraud",
            [
                "nạp usdt lãi 3%/ngày",
                "sàn forex cam kết lợi nhuận",
                "thầy đọc lệnh vàng",
                "bao lỗ hoàn vốn 100%",
            ],
        ),
        (
            "job_scam",
            [
                "việc nhẹ lương cao",
                "làm nhiệm vụ thả tim",
                "tuyển ctv chốt đơn",
                "đóng phí giữ chỗ",
            ],
        ),
        (
            "impersonation",
            [
                "công an yêu cầu chuyển tiền",
                "tài khoản bị khóa cập nhật sinh trắc",
                "evn cắt điện hôm nay",
                "đọc mã otp cho tổng đài",
            ],
        ),
        (
            "other_fraud",
            [
                "xả kho giá sốc chuyển cọc",
                "vay nhanh không thế chấp",
                "trúng thưởng nộp phí",
                "lấy lại tiền bị lừa",
            ],
        ),
        (
            "benign",
            [
                "quán phở mở cửa 6h sáng",
                "công an cảnh báo thủ đoạn",
                "lịch thi học kỳ",
                "bán xe máy cũ",
            ],
        ),
    ];
    for (label, ts) in texts {
        for (i, t) in ts.iter().enumerate() {
            v.push(Example {
                id: format!("{label}-{i}"),
                text: t.to_string(),
                label: label.to_string(),
                channel: "sms".into(),
                lang: "vi".into(),
                provenance: "handwritten:test".into(),
            });
        }
    }
    v
}

fn tiny_train(seed: u64) -> NgramModel {
    let ex = tiny_corpus();
    let cfg = TrainConfig {
        name: "tiny".into(),
        seed,
        epochs: 3,
        batch_size: 4,
        dim: 4,
        folds: 2,
        features: FeatureConfig {
            buckets_log2: 12,
            ..FeatureConfig::default()
        },
        ..TrainConfig::default()
    };
    let mut f = Featurizer::default();
    let bags: Vec<_> = ex
        .iter()
        .map(|e| f.bag(&cfg.features, &[&e.text]))
        .collect();
    let labels: Vec<u32> = ex.iter().map(|e| e.label_index() as u32).collect();
    train(&cfg, &bags, &labels, &corpus::data_hash(&ex), &Silent)
        .unwrap()
        .model
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scamsweep-model-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let (a, b, c) = (tmp("a"), tmp("b"), tmp("c"));
    tiny_train(7).save(&a).unwrap();
    tiny_train(7).save(&b).unwrap();
    tiny_train(8).save(&c).unwrap();
    let bytes = |d: &PathBuf| std::fs::read(d.join("model.safetensors")).unwrap();
    assert_eq!(bytes(&a), bytes(&b), "same seed, same weights");
    assert_ne!(bytes(&a), bytes(&c), "another seed, other weights");
    assert_eq!(
        std::fs::read_to_string(a.join("config.json")).unwrap(),
        std::fs::read_to_string(b.join("config.json")).unwrap()
    );
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn save_and_load_round_trip_gives_the_same_predictions() {
    let dir = tmp("rt");
    let mut m = tiny_train(3);
    m.save(&dir).unwrap();
    let loaded = NgramModel::load(&dir).unwrap();
    assert_eq!(loaded.config, m.config);
    let texts = ["nạp usdt lãi ngày", "quán phở", "", "tài khoản bị khóa"];
    let inputs: Vec<Input<'_>> = texts
        .iter()
        .map(|t| Input {
            title: None,
            text: t,
        })
        .collect();
    let a = m.classify_batch(&inputs, true).unwrap();
    let b = loaded.classify_batch(&inputs, true).unwrap();
    assert_eq!(a, b);
    assert!(LABELS.contains(&a[0].label));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn broken_model_directories_are_clear_errors() {
    let dir = tmp("broken");
    let mut m = tiny_train(3);
    m.save(&dir).unwrap();
    let err = |d: &PathBuf| NgramModel::load(d).unwrap_err().to_string();
    // Truncated weights.
    let w = dir.join("model.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    std::fs::write(&w, &bytes[..bytes.len() / 2]).unwrap();
    assert!(err(&dir).contains("model.safetensors"), "{}", err(&dir));
    std::fs::write(&w, &bytes).unwrap();
    // A config that does not match the weights.
    let c = dir.join("config.json");
    let cfg = std::fs::read_to_string(&c).unwrap();
    std::fs::write(&c, cfg.replace("\"dim\": 4", "\"dim\": 8")).unwrap();
    assert!(err(&dir).contains("shapes"), "{}", err(&dir));
    std::fs::write(&c, "{not json").unwrap();
    assert!(err(&dir).contains("config.json"), "{}", err(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(err(&dir).contains("config.json"));
}

#[test]
fn inference_and_training_forward_passes_agree() {
    let m = shipped();
    let mut f = Featurizer::default();
    let texts = [
        "Nạp USDT lãi 3%/ngày, ib zalo",
        "",
        "Quán phở mở cửa 6h",
        "tài khoản bị khóa",
    ];
    let bags: Vec<_> = texts
        .iter()
        .map(|t| f.bag(&m.config.features, &[t]))
        .collect();
    let refs: Vec<_> = bags.iter().collect();
    let fast = m.params().logits(&refs).unwrap().to_vec2::<f32>().unwrap();
    let graph = m
        .params()
        .logits_autograd(&refs)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    for (a, b) in fast.iter().flatten().zip(graph.iter().flatten()) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
}
