//! Writes to a vault as fast as it can, forever, printing `ack N` after each
//! commit returns. The crash test SIGKILLs it mid-stream. Each commit holds
//! three records (an incident, a contact and a task), so a torn transaction
//! would show up as unequal counts.

use age::secrecy::SecretString;
use std::io::Write;
use waymark_domain::patch::Patch;
use waymark_domain::RecordKind;
use waymark_scenarios::{account_for, SCENARIO_PASSPHRASE};
use waymark_vault::{Env, Mutation, Vault};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: crash-writer VAULT_DIR FIRST_N");
    let first: u64 = args.next().and_then(|n| n.parse().ok()).expect("usage: crash-writer VAULT_DIR FIRST_N");
    let passphrase = SecretString::from(SCENARIO_PASSPHRASE.to_owned());
    let mut vault = Vault::unlock(std::path::Path::new(&dir), &passphrase, Env::system()).expect("unlock");
    let case = vault.resolve_case("CRASH-1").expect("case");
    let mut stdout = std::io::stdout().lock();
    for n in first.. {
        let incident = build(
            &mut vault,
            RecordKind::Incident,
            case,
            &["behaviours+=unwanted_contact".into(), "channel=text".into(), format!("account={}", account_for(n))],
        );
        let contact =
            build(&mut vault, RecordKind::Contact, case, &["method=phone".into(), format!("summary=write {n}")]);
        let task = build(&mut vault, RecordKind::Task, case, &["due_on=2026-12-01".into(), format!("what=write {n}")]);
        vault
            .commit(vec![Mutation::Create(incident), Mutation::Create(contact), Mutation::Create(task)])
            .expect("commit");
        writeln!(stdout, "ack {n}").and_then(|()| stdout.flush()).expect("stdout");
    }
}

fn build(
    vault: &mut Vault,
    kind: RecordKind,
    case: waymark_domain::CaseId,
    fields: &[String],
) -> waymark_domain::Record {
    // A dry `add` path: same defaults as the CLI, committed together by the caller.
    vault.draft(kind, Some(case), &Patch::parse(fields).expect("fields")).expect("draft")
}
