//! Two `waymark-clinic serve` processes over one PostgreSQL database, as a
//! hosting team runs them behind a load balancer, with laptops spread across
//! both. One server is SIGKILLed while a laptop's batch is in flight; the
//! balancer sends that laptop to the other; then both servers take pushes
//! at once. Afterwards every op is held exactly once, nothing is waiting
//! and every laptop holds the same caseload, as in the fault scenario.

use std::path::Path;
use waymark_clinic::store::postgres::test_kit;
use waymark_scenarios::clinic::ClinicProcess;
use waymark_scenarios::kit::*;
use waymark_scenarios::proxy::{Fault, FaultProxy};
use waymark_sync::sync_once;

#[test]
fn batches_in_flight_at_once_through_a_round_robin_balancer_are_acknowledged_whole_and_in_order() {
    // Why: a laptop keeps two batches in flight; behind a balancer that
    // alternates connections they reach different servers, and the second
    // can reach the database before the first. The servers share nothing
    // but the database, so it is refused as out of order and the laptop must
    // send it again once the first is acknowledged: one round still sends
    // everything, each op held once. The balancer stalls the first batch
    // partway, so the second overtakes it.
    let schema = test_kit::schema();
    let first = ClinicProcess::init_on_postgres(Path::new(env!("CARGO_BIN_EXE_clinic")), &[], &schema.connection());
    let second = first.another_server();
    let balancer = FaultProxy::start(first.port);
    balancer.alternate_with(second.port);
    let dir = tempfile::tempdir().unwrap();
    let a = laptop(dir.path());
    enrol(&a, &first, &balancer.url());
    let many = 2 * waymark_sync::PUSH_BATCH_OPS as usize + 150;
    open_case(&a, "PG-MANY", many);
    let sent = last_seq(&a);
    balancer.set(Fault::StallOnceAt(200_000, std::time::Duration::from_secs(3)));
    let report = sync_once(&a).unwrap();
    assert_eq!((report.acked_through, report.refused, report.quarantined), (sent, 0, 0));
    assert_eq!(balancer.cuts(), 1, "the first batch was stalled once, so the second overtook it");
    assert!(report.resent >= 1, "the batch that overtook the first was sent again: {report:?}");
    let status = a.lock().unwrap().sync_status().unwrap();
    assert_eq!((status.pending, status.acked_through, status.problems), (0, sent, 0));
    let stats = first.stats();
    assert_eq!((stats.ops, stats.quarantined, stats.refused), (sent, 0, 0), "each op held once");
}

#[test]
fn two_servers_on_one_database_lose_no_op_when_one_dies_mid_push() {
    let schema = test_kit::schema();
    let mut first = ClinicProcess::init_on_postgres(Path::new(env!("CARGO_BIN_EXE_clinic")), &[], &schema.connection());
    let second = first.another_server();
    assert!(!first.folder().join("clinic.db").exists(), "the state is in PostgreSQL, not beside the server");
    // One balancer address per laptop, so the test decides which server each reaches.
    let (to_first, to_second) = (FaultProxy::start(first.port), FaultProxy::start(second.port));
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let laptops: Vec<_> = dirs.iter().map(|d| laptop(d.path())).collect();
    let (a, b, c, d) = (&laptops[0], &laptops[1], &laptops[2], &laptops[3]);
    // A and C reach the first server, B and D the second; each enrols through its own.
    enrol(a, &first, &to_first.url());
    enrol(c, &first, &to_first.url());
    enrol(b, &second, &to_second.url());
    enrol(d, &second, &to_second.url());

    open_case(a, "PG-A", 300);
    open_case(b, "PG-B", 200);
    open_case(c, "PG-C", 50);
    open_case(d, "PG-D", 50);
    for laptop in &laptops {
        sync_once(laptop).unwrap();
    }

    // The first server dies with A's batch in flight.
    {
        let mut v = a.lock().unwrap();
        let case = v.resolve_case("PG-A").unwrap();
        add_incidents(&mut v, case, 1200);
    }
    // The proxy holds back the rest of the batch, so the server dies before it could commit it.
    let (tx, rx) = std::sync::mpsc::channel();
    to_first.set(Fault::HoldAt(100_000, tx));
    std::thread::scope(|scope| {
        let pushing = scope.spawn(|| sync_once(a));
        rx.recv_timeout(std::time::Duration::from_secs(60)).expect("an upload was in flight");
        first.sigkill();
        to_first.point_at(second.port);
        assert!(pushing.join().unwrap().is_err(), "the round fails when its server dies");
    });
    let before = a.lock().unwrap().sync_acked_through().unwrap();

    // The balancer sends A and C to the survivor, which finishes A's push.
    sync_once(a).unwrap();
    sync_once(c).unwrap();
    assert!(a.lock().unwrap().sync_acked_through().unwrap() > before, "the other server took the rest");

    // The first comes back; both servers take pushes at the same time.
    first.start();
    to_first.point_at(first.port);
    let to_first_before = to_first.uploaded();
    for (laptop, reference) in [(a, "PG-A"), (b, "PG-B"), (c, "PG-C"), (d, "PG-D")] {
        let mut v = laptop.lock().unwrap();
        let case = v.resolve_case(reference).unwrap();
        add_incidents(&mut v, case, 150);
    }
    std::thread::scope(|scope| {
        let rounds: Vec<_> = laptops.iter().map(|l| scope.spawn(move || sync_once(l))).collect();
        for round in rounds {
            round.join().unwrap().unwrap();
        }
    });

    assert!(
        to_first.uploaded() > to_first_before + 100_000,
        "the restarted first server took A's and C's pushes, not the second over an old connection"
    );

    // Everyone catches up through whichever server they reach.
    for _ in 0..2 {
        for laptop in &laptops {
            sync_once(laptop).unwrap();
        }
    }
    let stats = second.stats();
    let sent: u64 = laptops.iter().map(last_seq).sum();
    assert_eq!(stats.ops, sent, "every op from every laptop is held exactly once");
    assert_eq!((stats.quarantined, stats.refused), (0, 0));
    assert_eq!(first.stats(), stats, "both folders open the one database");
    let loads: Vec<_> = laptops.iter().map(caseload).collect();
    for (n, laptop) in laptops.iter().enumerate() {
        let status = laptop.lock().unwrap().sync_status().unwrap();
        assert_eq!((status.pending, status.acked_through), (0, last_seq(laptop)), "laptop {n}: nothing waiting");
        assert_eq!((status.open_conflicts, status.problems), (0, 0), "laptop {n}");
        assert_eq!(loads[n], loads[0], "laptop {n} holds the same caseload as the first");
    }
    assert_eq!(loads[0]["incidents"].as_array().unwrap().len(), 300 + 200 + 50 + 50 + 1200 + 4 * 150);
}
