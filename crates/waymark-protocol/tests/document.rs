//! `docs/sync-protocol.md` must describe the wire types as they are. The
//! block between the `wire-types` markers is generated from real values of
//! every type; when a field is added, renamed or reordered, this test fails
//! and prints the block to paste after updating the prose.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use waymark_protocol::auth::Claim;
use waymark_protocol::enrol::EnrolmentCode;
use waymark_protocol::messages::*;
use waymark_protocol::*;

/// Top-level keys in serialisation order (which a `Value` would sort away),
/// because the order fixes the content hash.
fn fields(json: &str) -> String {
    let (mut keys, mut depth, mut in_string, mut escaped, mut current) = (Vec::new(), 0, false, false, String::new());
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    in_string = false;
                    if depth == 1 && chars.peek() == Some(&':') {
                        keys.push(std::mem::take(&mut current));
                    }
                    current.clear();
                }
                _ => current.push(c),
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    keys.join(", ")
}

fn generated() -> String {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let id = Uuid::nil();
    let keys = DevicePublic { signing: String::new(), sealing: String::new() };
    let op = WireOp {
        op_id: id,
        origin: id,
        seq: 1,
        hlc: String::new(),
        made_at: at,
        actor: String::new(),
        kind: String::new(),
        record_id: id,
        case_id: None,
        action: OpAction::Create,
        changes: waymark_protocol::OpChanges::default(),
        schema_version: 1,
    };
    let header = BatchHeader {
        protocol: PROTOCOL_VERSION,
        batch_id: id,
        direction: Direction::Up,
        sender: id,
        recipient: id,
        first_seq: 1,
        last_seq: 0,
        op_count: 0,
        max_hlc: String::new(),
        schema_version: 1,
        sent_at: at,
    };
    let body = waymark_protocol::wire::BatchBody { header: header.clone(), ops: vec![] };
    let rows: Vec<(&str, String)> = vec![
        ("WireOp", serde_json::to_string(&op).unwrap()),
        ("BatchHeader", serde_json::to_string(&header).unwrap()),
        ("BatchBody", serde_json::to_string(&body).unwrap()),
        ("DevicePublic", serde_json::to_string(&keys).unwrap()),
        (
            "EnrolmentCode",
            serde_json::to_string(&EnrolmentCode {
                url: String::new(),
                fingerprint: None,
                clinic_id: id,
                clinic: keys.clone(),
                recovery: None,
                advocate: None,
                token: String::new(),
            })
            .unwrap(),
        ),
        (
            "Claim",
            serde_json::to_string(&Claim {
                device: id,
                request_id: id,
                path: String::new(),
                body_sha256: String::new(),
                at,
            })
            .unwrap(),
        ),
        (
            "EnrolRequest",
            serde_json::to_string(&EnrolRequest {
                token: String::new(),
                device_id: id,
                advocate: None,
                keys,
                proof: String::new(),
            })
            .unwrap(),
        ),
        (
            "EnrolResponse",
            serde_json::to_string(&EnrolResponse { clinic_id: id, advocate: String::new(), acked_through: 0 }).unwrap(),
        ),
        (
            "HelloResponse",
            serde_json::to_string(&HelloResponse {
                acked_through: 0,
                acked_op: None,
                feed_head: 0,
                clinic_time: at,
                signature: String::new(),
            })
            .unwrap(),
        ),
        (
            "PushResponse",
            serde_json::to_string(&PushResponse {
                acked_through: 0,
                acked_op: None,
                quarantined: vec![],
                refused: vec![],
                signature: String::new(),
            })
            .unwrap(),
        ),
        ("RefusedOp", serde_json::to_string(&RefusedOp { seq: 0, code: OpRefusal::NotYourCase }).unwrap()),
        ("PullRequest", serde_json::to_string(&PullRequest { after: 0, max_ops: 0 }).unwrap()),
        (
            "ErrorBody",
            serde_json::to_string(&ErrorBody {
                code: String::new(),
                message: String::new(),
                wipe: true,
                wipe_signature: Some(String::new()),
                fields: vec![waymark_domain::FieldError { field: String::new(), rule: String::new() }],
            })
            .unwrap(),
        ),
    ];
    let mut out = format!(
        "protocol version: {PROTOCOL_VERSION}\nframe magic: {}\n",
        String::from_utf8_lossy(waymark_protocol::frame::MAGIC)
    );
    for (name, value) in rows {
        out.push_str(&format!("{name}: {}\n", fields(&value)));
    }
    let variants =
        |values: &[String]| values.iter().map(|v| v.trim_matches('"').to_owned()).collect::<Vec<_>>().join(" | ");
    out.push_str(&format!(
        "Direction: {}\n",
        variants(&[serde_json::to_string(&Direction::Up).unwrap(), serde_json::to_string(&Direction::Down).unwrap()])
    ));
    out.push_str(&format!("OpAction: {}\n", variants(&OpAction::ALL.map(|a| serde_json::to_string(&a).unwrap()))));
    out.push_str(&format!(
        "OpRefusal: {}\n",
        // The content refusal's shape, with "kind" and "field" standing for the names.
        OpRefusal::ALL
            .iter()
            .chain([OpRefusal::invalid("kind", "field")].iter())
            .map(OpRefusal::as_str)
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    out
}

#[test]
fn the_protocol_document_matches_the_wire_types() {
    let doc = include_str!("../../../docs/sync-protocol.md");
    let block = doc
        .split("<!-- wire-types:begin -->\n```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n<!-- wire-types:end -->").next())
        .expect("docs/sync-protocol.md needs the wire-types block");
    let expected = generated();
    assert!(
        block == expected,
        "the wire types changed: update docs/sync-protocol.md, then paste this block:\n{expected}"
    );
}
