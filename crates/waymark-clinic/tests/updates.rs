//! App updates through the real router: an administrator publishes a
//! release its builder signed; an older laptop is offered it in the form
//! Tauri's updater reads, fetches the file, and the signature it was handed
//! holds for those bytes under the app's key (checked here by
//! `minisign-verify`, the check the updater itself makes); a laptop already
//! there is told there is nothing; a withdrawn release is gone.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

mod kit;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine;
use kit::*;
use waymark_clinic::updates::Publication;
use waymark_protocol::messages::{UpdateOffer, UpdateTarget};

fn b64(text: String) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn get(path: &str, host: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(host) = host {
        request = request.header(header::HOST, host);
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn an_older_laptop_is_offered_the_signed_release_and_its_signature_holds_for_the_bytes_served() {
    let (_, clinic) = stores().remove(0);
    let releases = clinic.state.updates.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let package = b"!<arch>\ndebian-binary a package built and signed by the app's builder".repeat(50);
    let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    // As `tauri signer sign --app-version 0.2.0` signs it.
    let comment = "timestamp:1\tfile:waymark.deb\tversion:0.2.0";
    let signature =
        minisign::sign(Some(&pair.pk), &pair.sk, std::io::Cursor::new(&package), Some(comment), None).unwrap();
    std::fs::write(dir.path().join("waymark.deb"), &package).unwrap();
    std::fs::write(dir.path().join("waymark.deb.sig"), b64(signature.to_string())).unwrap();
    let key = b64(pair.pk.to_box().unwrap().to_string());
    std::fs::write(dir.path().join("update.pub"), &key).unwrap();
    let key_file = dir.path().join("update.pub");
    releases
        .publish(
            &Publication {
                target: UpdateTarget::LinuxX86_64,
                version: "0.2.0",
                file: &dir.path().join("waymark.deb"),
                signature_file: &dir.path().join("waymark.deb.sig"),
                public_key_file: Some(&key_file),
                notes: Some("Safer printouts."),
            },
            waymark_clinic::system_now(),
        )
        .unwrap();

    let host = Some("clinic.example:8443");
    let (status, body) = call(&clinic, get("/v1/updates/linux-x86_64/0.1.0", host)).await;
    assert_eq!(status, StatusCode::OK);
    let offer: UpdateOffer = serde_json::from_slice(&body).unwrap();
    assert_eq!(offer.version, "0.2.0");
    assert_eq!(offer.notes.as_deref(), Some("Safer printouts."));
    // The file is offered where the laptop reached the clinic.
    let file_path = offer.url.strip_prefix("https://clinic.example:8443").unwrap();
    assert!(file_path.starts_with("/v1/updates/linux-x86_64/file?sha256="), "{}", offer.url);

    let (status, served) = call(&clinic, get(file_path, host)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served, package);
    // What the laptop's updater does before installing: the signature, as handed over, under the app's key.
    let decode = |s: &str| String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap();
    let public = minisign_verify::PublicKey::decode(&decode(&key)).unwrap();
    let handed = minisign_verify::Signature::decode(&decode(&offer.signature)).unwrap();
    assert!(public.verify(&served, &handed, true).is_ok());
    let mut altered = served.clone();
    altered[10] ^= 1;
    assert!(public.verify(&altered, &handed, true).is_err(), "the check would not catch a changed file");

    // Nothing newer for a laptop already there or ahead; a platform with nothing published; hostile paths.
    for (path, host, expected) in [
        ("/v1/updates/linux-x86_64/0.2.0", host, StatusCode::NO_CONTENT),
        ("/v1/updates/linux-x86_64/1.0.0", host, StatusCode::NO_CONTENT),
        ("/v1/updates/windows-x86_64/0.1.0", host, StatusCode::NO_CONTENT),
        ("/v1/updates/windows-x86_64/file", host, StatusCode::NOT_FOUND),
        // Another release than the one on offer: not handed out against this signature.
        (
            "/v1/updates/linux-x86_64/file?sha256=0000000000000000000000000000000000000000000000000000000000000000",
            host,
            StatusCode::NOT_FOUND,
        ),
        ("/v1/updates/linux-x86_64/not-a-version", host, StatusCode::BAD_REQUEST),
        ("/v1/updates/..%2F..%2Fclinic.key/0.1.0", host, StatusCode::NOT_FOUND),
        ("/v1/updates/linux-x86_64/0.1.0", None, StatusCode::BAD_REQUEST),
        ("/v1/updates/linux-x86_64/0.1.0", Some("evil\"host/path"), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(call(&clinic, get(path, host)).await.0, expected, "{path} from {host:?}");
    }

    assert!(releases.withdraw(UpdateTarget::LinuxX86_64).unwrap());
    assert_eq!(call(&clinic, get("/v1/updates/linux-x86_64/0.1.0", host)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(call(&clinic, get("/v1/updates/linux-x86_64/file", host)).await.0, StatusCode::NOT_FOUND);
}
