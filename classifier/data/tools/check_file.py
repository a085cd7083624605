#!/usr/bin/env python3
"""Checks one corpus JSONL file: fields, allowed values, duplicates. Usage: check_file.py FILE"""
import json, sys, collections, unicodedata
LABELS = {"investment_fraud", "job_scam", "impersonation", "other_fraud", "benign"}
CHANNELS = {"web", "telegram", "app_listing", "group_post", "sms", "email"}
LANGS = {"vi", "en"}
VI_MARKS = set("ăâđêôơưàáạảãầấậẩẫằắặẳẵèéẹẻẽềếệểễìíịỉĩòóọỏõồốộổỗờớợởỡùúụủũừứựửữỳýỵỷỹ")
path = sys.argv[1]
seen_ids, seen_text = set(), set()
counts = collections.Counter()
errors = 0
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    if not line.strip():
        continue
    try:
        o = json.loads(line)
    except Exception as e:
        print(f"line {n}: bad JSON: {e}"); errors += 1; continue
    for k in ("id", "text", "label", "channel", "lang", "provenance"):
        if not isinstance(o.get(k), str) or not o[k].strip():
            print(f"line {n}: missing or empty field {k}"); errors += 1
    if o.get("label") not in LABELS: print(f"line {n}: bad label {o.get('label')}"); errors += 1
    if o.get("channel") not in CHANNELS: print(f"line {n}: bad channel {o.get('channel')}"); errors += 1
    if o.get("lang") not in LANGS: print(f"line {n}: bad lang {o.get('lang')}"); errors += 1
    if o.get("id") in seen_ids: print(f"line {n}: duplicate id {o.get('id')}"); errors += 1
    key = " ".join(str(o.get("text", "")).lower().split())
    if key in seen_text: print(f"line {n}: duplicate text"); errors += 1
    seen_ids.add(o.get("id")); seen_text.add(key)
    t = unicodedata.normalize("NFC", str(o.get("text", "")).lower())
    marks = any(c in VI_MARKS for c in t)
    view = "en" if o.get("lang") == "en" else ("vi+diacritics" if marks else "vi-no-diacritics")
    counts[(o.get("label"), view)] += 1
    counts[("channel", o.get("channel"))] += 1
    counts[("len", "short<120" if len(t) < 120 else "medium<600" if len(t) < 600 else "long>=600")] += 1
for k, v in sorted(counts.items(), key=str):
    print(k, v)
print("total", sum(v for k, v in counts.items() if k[0] not in ("channel", "len")), "errors", errors)
sys.exit(1 if errors else 0)
