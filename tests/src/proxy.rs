//! A TCP proxy that injects network faults between a device and the clinic.
//! TLS runs end to end through it, so it sees only bytes: it cuts a
//! connection partway through an upload, or drops a reply that follows an
//! upload (the clinic stored the batch, the device never hears), delays, or
//! signals when an upload is in flight so the clinic can be killed mid-batch.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Fault {
    Pass,
    /// Cut the connection once this many bytes of one request have gone up.
    CutRequestAt(u64),
    /// After an upload of at least this many bytes, cut the reply halfway.
    CutResponseAfterUpload(u64),
    /// Hold every chunk this long, both ways.
    Delay(Duration),
    /// Tell the test once this many bytes of one request have gone up, and keep forwarding.
    NotifyAt(u64, Sender<()>),
    /// Tell the test once this many bytes of one request have gone up, and forward
    /// nothing more of it: the server is still waiting for the rest when the test acts.
    HoldAt(u64, Sender<()>),
    /// Once this many bytes of one request have gone up, hold the rest of it
    /// this long, once, and then forward it: a batch sent after it overtakes
    /// it. Counted in `cuts`.
    StallOnceAt(u64, Duration),
}

pub struct FaultProxy {
    pub port: u16,
    fault: Arc<Mutex<Fault>>,
    upstream: Arc<AtomicU16>,
    /// A second server every other new connection goes to (0: none).
    alternate: Arc<AtomicU16>,
    cuts: Arc<AtomicU32>,
    /// Connections still open, so a switch of server can end them.
    live: Arc<Mutex<Vec<std::sync::Weak<Conn>>>>,
    /// Bytes sent up to a server so far.
    uploaded: Arc<AtomicU64>,
}

struct Conn {
    client: TcpStream,
    server: TcpStream,
    since_reply: AtomicU64,
}

impl Conn {
    fn cut(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

impl FaultProxy {
    pub fn start(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let proxy = FaultProxy {
            port,
            fault: Arc::new(Mutex::new(Fault::Pass)),
            upstream: Arc::new(AtomicU16::new(upstream_port)),
            alternate: Arc::new(AtomicU16::new(0)),
            cuts: Arc::new(AtomicU32::new(0)),
            live: Arc::new(Mutex::new(Vec::new())),
            uploaded: Arc::new(AtomicU64::new(0)),
        };
        let (fault, upstream, cuts) = (proxy.fault.clone(), proxy.upstream.clone(), proxy.cuts.clone());
        let (live, uploaded, alternate) = (proxy.live.clone(), proxy.uploaded.clone(), proxy.alternate.clone());
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().flatten().enumerate() {
                let port = match alternate.load(Ordering::SeqCst) {
                    0 => upstream.load(Ordering::SeqCst),
                    other if n % 2 == 1 => other,
                    _ => upstream.load(Ordering::SeqCst),
                };
                let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else { continue };
                let conn = Arc::new(Conn { client, server, since_reply: AtomicU64::new(0) });
                if let Ok(mut live) = live.lock() {
                    live.retain(|c| c.strong_count() > 0);
                    live.push(Arc::downgrade(&conn));
                }
                let (up, down) = (conn.clone(), conn);
                let (f1, f2, c1, c2) = (fault.clone(), fault.clone(), cuts.clone(), cuts.clone());
                let sent = uploaded.clone();
                std::thread::spawn(move || pump_up(&up, &f1, &c1, &sent));
                std::thread::spawn(move || pump_down(&down, &f2, &c2));
            }
        });
        proxy
    }

    /// Bytes sent up to whichever server so far.
    pub fn uploaded(&self) -> u64 {
        self.uploaded.load(Ordering::SeqCst)
    }

    /// Sends new connections to another server from now on, as a load
    /// balancer does when the server behind it stops answering.
    /// Open connections are ended, so a client that keeps its connections
    /// cannot go on reaching the old server.
    pub fn point_at(&self, upstream_port: u16) {
        self.upstream.store(upstream_port, Ordering::SeqCst);
        if let Ok(mut live) = self.live.lock() {
            for conn in live.drain(..).filter_map(|c| c.upgrade()) {
                conn.cut();
            }
        }
    }

    /// Sends every other new connection to `other_port`, as a round-robin
    /// balancer over two servers does.
    pub fn alternate_with(&self, other_port: u16) {
        self.alternate.store(other_port, Ordering::SeqCst);
    }

    pub fn set(&self, fault: Fault) {
        *self.fault.lock().expect("fault lock") = fault;
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// How many connections a fault has cut (or stalled) so far.
    pub fn cuts(&self) -> u32 {
        self.cuts.load(Ordering::SeqCst)
    }
}

fn current(fault: &Mutex<Fault>) -> Fault {
    fault.lock().map(|f| f.clone()).unwrap_or(Fault::Pass)
}

fn pump_up(conn: &Conn, fault: &Mutex<Fault>, cuts: &AtomicU32, uploaded: &AtomicU64) {
    let (mut client, mut server) = (&conn.client, &conn.server);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = server.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        let before = conn.since_reply.fetch_add(n as u64, Ordering::SeqCst);
        match current(fault) {
            Fault::CutRequestAt(limit) if before + n as u64 > limit => {
                let keep = usize::try_from(limit.saturating_sub(before)).unwrap_or(0).min(n);
                let _ = server.write_all(&buf[..keep]);
                *fault.lock().expect("fault lock") = Fault::Pass;
                cuts.fetch_add(1, Ordering::SeqCst);
                conn.cut();
                return;
            }
            Fault::NotifyAt(limit, tx) if before + n as u64 > limit => {
                *fault.lock().expect("fault lock") = Fault::Pass;
                let _ = tx.send(());
            }
            Fault::HoldAt(limit, tx) if before + n as u64 > limit => {
                let keep = usize::try_from(limit.saturating_sub(before)).unwrap_or(0).min(n);
                let _ = server.write_all(&buf[..keep]);
                uploaded.fetch_add(keep as u64, Ordering::SeqCst);
                *fault.lock().expect("fault lock") = Fault::Pass;
                let _ = tx.send(());
                // The rest of this request never goes up; the test ends the connection.
                let _ = std::io::copy(&mut client, &mut std::io::sink());
                conn.cut();
                return;
            }
            Fault::StallOnceAt(..) => {
                // Checked and cleared under one lock, so only one connection stalls.
                let stall = {
                    let mut now = fault.lock().expect("fault lock");
                    match *now {
                        Fault::StallOnceAt(limit, d) if before + n as u64 > limit => {
                            *now = Fault::Pass;
                            Some(d)
                        }
                        _ => None,
                    }
                };
                if let Some(d) = stall {
                    cuts.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(d);
                }
            }
            Fault::Delay(d) => std::thread::sleep(d),
            _ => {}
        }
        if server.write_all(&buf[..n]).is_err() {
            conn.cut();
            return;
        }
        uploaded.fetch_add(n as u64, Ordering::SeqCst);
    }
}

fn pump_down(conn: &Conn, fault: &Mutex<Fault>, cuts: &AtomicU32) {
    let (mut client, mut server) = (&conn.client, &conn.server);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = client.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        match current(fault) {
            Fault::CutResponseAfterUpload(limit) if conn.since_reply.load(Ordering::SeqCst) >= limit => {
                let _ = client.write_all(&buf[..n / 2]);
                *fault.lock().expect("fault lock") = Fault::Pass;
                cuts.fetch_add(1, Ordering::SeqCst);
                conn.cut();
                return;
            }
            Fault::Delay(d) => std::thread::sleep(d),
            _ => {}
        }
        conn.since_reply.store(0, Ordering::SeqCst);
        if client.write_all(&buf[..n]).is_err() {
            conn.cut();
            return;
        }
    }
}
