//! Signed outputs checked by independent tools: pyHanko (PAdES validation against the
//! simulator's CA) and qpdf (structure). Skipped with a note when the tools are missing,
//! unless SIGNSIM_REQUIRE_VALIDATORS is set, as CI does.

use crate::common::{sample_pdf, start};
use std::path::{Path, PathBuf};
use std::process::Command;

fn required() -> bool {
    std::env::var_os("SIGNSIM_REQUIRE_VALIDATORS").is_some()
}

fn tool_available(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Whether pyHanko and qpdf can run here; panics when they are required but missing.
fn validators_available() -> bool {
    let have_pyhanko = tool_available("python3", &["-c", "import pyhanko"]);
    let have_qpdf = tool_available("qpdf", &["--version"]);
    if !(have_pyhanko && have_qpdf) {
        assert!(
            !required(),
            "SIGNSIM_REQUIRE_VALIDATORS is set but pyhanko or qpdf is missing"
        );
        eprintln!("skipping: pyhanko or qpdf not installed (see .ci/run)");
        return false;
    }
    true
}

/// Checks signed PDFs with qpdf and pyHanko (trusting the simulator's CA), when the tools
/// are available. Other test files call it for the PDFs they produce.
pub async fn check_pdfs(sim: &crate::common::Sim, pdfs: &[(&str, Vec<u8>)]) {
    if !validators_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!(
        "signsim-check-{}-{}",
        std::process::id(),
        sim.running.addr.port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, sim.get(&sim.url("/_signsim/ca.pem")).await.bytes).unwrap();
    let files: Vec<PathBuf> = pdfs
        .iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    run_validators(&ca, &files);
    std::fs::remove_dir_all(&dir).ok();
}

fn run_validators(ca: &Path, files: &[PathBuf]) {
    for file in files {
        let qpdf = Command::new("qpdf")
            .arg("--check")
            .arg(file)
            .output()
            .unwrap();
        assert!(
            qpdf.status.success(),
            "qpdf --check {}: {}",
            file.display(),
            String::from_utf8_lossy(&qpdf.stdout)
        );
    }
    let pyhanko = Command::new("python3")
        .arg(repo_file("ci/validate_pdf.py"))
        .arg(ca)
        .args(files)
        .output()
        .unwrap();
    assert!(
        pyhanko.status.success(),
        "pyHanko:\n{}\n{}",
        String::from_utf8_lossy(&pyhanko.stdout),
        String::from_utf8_lossy(&pyhanko.stderr)
    );
}

/// Runs every signed PDF of one request through pyHanko and qpdf.
#[tokio::test]
async fn signed_pdfs_pass_pyhanko_and_qpdf() {
    if !validators_available() {
        return;
    }
    let sim = start().await;
    let pk = sim.create_request("Validated").await;
    let first = sample_pdf("First document");
    let second = sample_pdf("Second document");
    let uploaded = sim
        .upload(
            pk,
            vec![
                ("file", "first.pdf", first),
                ("file2", "second.pdf", second),
            ],
        )
        .await
        .json();
    let signed = sim.sign_with_otp(&pk).await;
    assert_eq!(signed.status, 200);

    let dir = std::env::temp_dir().join(format!("signsim-validators-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, sim.get(&sim.url("/_signsim/ca.pem")).await.bytes).unwrap();
    let mut files = Vec::new();
    for document in uploaded["details"].as_array().unwrap() {
        let uid = document["uid"].as_str().unwrap();
        let bytes = sim
            .get(&sim.api(&format!("document/{pk}/signed/{uid}")))
            .await
            .bytes;
        let path = dir.join(format!("{uid}.pdf"));
        std::fs::write(&path, bytes).unwrap();
        files.push(path);
    }
    let contract = sim
        .get(&sim.api(&format!("document/{pk}/contract")))
        .await
        .bytes;
    let path = dir.join("contract.pdf");
    std::fs::write(&path, contract).unwrap();
    files.push(path);

    run_validators(&ca, &files);
    std::fs::remove_dir_all(&dir).ok();
}
