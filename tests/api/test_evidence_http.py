"""Evidence uploads through a live server: sniffed, kept by hash, its sha256 in the audit trail, markup refused."""

from __future__ import annotations

import hashlib

from .live_server import start, to_approval

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_an_uploaded_quote_is_kept_by_hash_audited_and_counts_as_the_approvals_evidence(api, tmp_path):
    case = to_approval(api)
    answer = api.client("bea").post(f"/v1/cases/{case['id']}/evidence", data={"name": "offer"},
                                    files={"file": ("offer.html", PDF, "text/html")})
    assert answer.status_code == 201, answer.text
    digest = hashlib.sha256(PDF).hexdigest()
    assert answer.json() == {"case_id": case["id"], "name": "offer", "sha256": digest, "size": len(PDF),
                             "media_type": "application/pdf"}
    assert (tmp_path / "evidence" / digest[:2] / digest[2:]).read_bytes() == PDF
    records = api.engine.store.audit_records(limit=10_000)
    assert any(digest in str(record.detail) for record in records)
    shown = api.client("alice").get(f"/v1/cases/{case['id']}").json()
    assert "offer" in shown["evidence"]


def test_markup_is_refused_whatever_its_name_and_declared_type(api):
    case = start(api)
    for content in (b"<!DOCTYPE html><script>alert(1)</script>", b"  <svg onload=alert(1)>", b"<?xml version='1.0'?>"):
        answer = api.client("alice").post(f"/v1/cases/{case['id']}/evidence", data={"name": "receipt"},
                                          files={"file": ("receipt.pdf", content, "application/pdf")})
        assert answer.status_code == 415, content
        assert answer.json()["errors"][0]["pointer"] == "/body/file"
    assert api.client("alice").get(f"/v1/cases/{case['id']}").json()["evidence"] == []


def test_an_upload_over_the_limit_is_413_and_someone_elses_case_is_404(api):
    case = start(api)
    big = b"%PDF-" + b"0" * (11 * 1024 * 1024)
    answer = api.client("alice").post(f"/v1/cases/{case['id']}/evidence", data={"name": "scan"},
                                      files={"file": ("scan.pdf", big, "application/pdf")})
    assert answer.status_code == 413
    other = api.client("dave").post(f"/v1/cases/{case['id']}/evidence", data={"name": "scan"},
                                    files={"file": ("scan.pdf", PDF, "application/pdf")})
    assert other.status_code == 404
    bad_name = api.client("alice").post(f"/v1/cases/{case['id']}/evidence", data={"name": "../etc/passwd"},
                                        files={"file": ("x.pdf", PDF, "application/pdf")})
    assert bad_name.status_code == 422


def test_evidence_is_downloaded_as_an_attachment_never_inline_and_only_by_who_sees_the_case(api):
    case = start(api)
    api.client("alice").post(f"/v1/cases/{case['id']}/evidence", data={"name": "receipt"},
                             files={"file": ("receipt.pdf", PDF, "application/pdf")})
    got = api.client("alice").get(f"/v1/cases/{case['id']}/evidence/receipt")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    assert api.client("dave").get(f"/v1/cases/{case['id']}/evidence/receipt").status_code == 404
    assert api.client("alice").get(f"/v1/cases/{case['id']}/evidence/nothing").status_code == 404
