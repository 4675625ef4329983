//! What signing in to the clinic workspace rests on, with time and
//! randomness passed in: a password hashed with argon2id under the one
//! passphrase rule the laptops use, a second factor by TOTP (RFC 6238) whose
//! codes are used once, server-side sessions with an idle timeout and an
//! absolute lifetime, and a delay that grows with each failed sign-in. The
//! store keeps the hashes, secrets and sessions; the web routes call these.

use crate::error::ClinicError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use rand::{CryptoRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use totp_rs::TOTP;
use zeroize::Zeroizing;

/// argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane):
/// about 50 ms a guess on the clinic's server, so an online guesser is held
/// back by the sign-in delay and a stolen hash still costs each guess dearly.
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;

fn argon2id() -> Argon2<'static> {
    // The parameters are constants within argon2's limits, so building them cannot fail.
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A password as the store keeps it: the PHC string of its argon2id hash
/// (algorithm, parameters, salt and hash; never the password).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordRecord(String);

impl std::fmt::Debug for PasswordRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordRecord(argon2id)")
    }
}

impl PasswordRecord {
    /// Hashes a new password after checking it against the one passphrase rule.
    pub fn new(password: &SecretString, rng: &mut (impl RngCore + CryptoRng)) -> Result<Self, ClinicError> {
        Self::check_strength(password)?;
        let salt = SaltString::generate(rng);
        let hash = argon2id()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map_err(|_| ClinicError::Setup("hash a password".into()))?;
        Ok(PasswordRecord(hash.to_string()))
    }

    /// The one passphrase rule, on its own, before anything else is spent on a password.
    pub fn check_strength(password: &SecretString) -> Result<(), ClinicError> {
        let strength = waymark_domain::passphrase::rate(password.expose_secret());
        if strength.acceptable {
            Ok(())
        } else {
            Err(ClinicError::WeakPassphrase { hint: strength.hint })
        }
    }

    /// Reads a stored hash; one that is not an argon2id PHC string is refused.
    pub fn from_stored(text: String) -> Result<Self, ClinicError> {
        let parsed = PasswordHash::new(&text).map_err(|_| ClinicError::Store("a stored password hash".into()))?;
        if parsed.algorithm != argon2::ARGON2ID_IDENT {
            return Err(ClinicError::Store("a stored password hash".into()));
        }
        Ok(PasswordRecord(text))
    }

    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Whether `attempt` is the password, in time that does not depend on
    /// how much of it matched. The caller holds a hashing turn (`sign_in` does).
    pub fn verify(&self, attempt: &SecretString) -> bool {
        PasswordHash::new(&self.0)
            .map(|hash| argon2id().verify_password(attempt.expose_secret().as_bytes(), &hash).is_ok())
            .unwrap_or(false)
    }
}

/// How many password hashes run at once: each takes 19 MiB and a core for
/// about 50 ms, so a flood of sign-ins waits its turn rather than taking the
/// server's memory.
pub const HASHES_AT_ONCE: usize = 2;

static HASHING: Turns = Turns::new(HASHES_AT_ONCE);

/// How long a sign-in waits for a hashing turn, and how many may wait at
/// once: past either, it is told to try again shortly, so a flood of
/// sign-ins cannot hold every blocking thread (and with them sync) waiting.
pub const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
pub const WAITING_AT_MOST: usize = 16;

/// A counting semaphore for blocking callers (sign-ins run on blocking threads).
pub struct Turns {
    free: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
    waiting: std::sync::atomic::AtomicUsize,
}

/// A turn held until dropped.
pub struct Turn<'a>(&'a Turns);

impl Turns {
    pub const fn new(at_once: usize) -> Self {
        Turns {
            free: std::sync::Mutex::new(at_once),
            freed: std::sync::Condvar::new(),
            waiting: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// A turn within `wait`, unless `at_most` callers are already waiting
    /// or none comes free in time.
    pub fn try_turn(&self, wait: std::time::Duration, at_most: usize) -> Option<Turn<'_>> {
        use std::sync::atomic::Ordering;
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= at_most {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let deadline = std::time::Instant::now() + wait;
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            free = self.freed.wait_timeout(free, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if *free == 0 {
            return None;
        }
        *free -= 1;
        Some(Turn(self))
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// How long a TOTP code lasts, and how many steps either side are taken for
/// a phone's clock that is a little out.
pub const TOTP_STEP_SECS: u64 = 30;
const TOTP_SKEW_STEPS: u64 = 1;
const TOTP_DIGITS: usize = 6;

/// A staff member's TOTP secret: 20 random bytes (160 bits, RFC 4226's
/// recommendation), shown once as base32 or a QR code for their
/// authenticator app, and kept by the clinic encrypted at rest.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = Zeroizing::new(vec![0u8; 20]);
        rng.fill_bytes(&mut bytes);
        TotpSecret(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ClinicError> {
        if bytes.len() < 16 {
            return Err(ClinicError::Store("a stored second-factor secret".into()));
        }
        Ok(TotpSecret(Zeroizing::new(bytes)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as an authenticator app takes it typed in (RFC 4648 base32, no padding).
    pub fn base32(&self) -> Zeroizing<String> {
        Zeroizing::new(totp_rs::Secret::Raw(self.0.to_vec()).to_encoded().to_string())
    }

    /// The `otpauth://` address an authenticator app reads from a QR code.
    /// It names the service and the staff code, never the person.
    pub fn otpauth_uri(&self, issuer: &str, staff_code: &str) -> Zeroizing<String> {
        let label = |text: &str| text.bytes().filter(u8::is_ascii_alphanumeric).map(char::from).collect::<String>();
        Zeroizing::new(format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECS}",
            label(issuer),
            label(staff_code),
            self.base32().as_str(),
            label(issuer),
        ))
    }

    fn totp(&self) -> TOTP {
        TOTP::new_unchecked(totp_rs::Algorithm::SHA1, TOTP_DIGITS, 1, TOTP_STEP_SECS, self.0.to_vec())
    }

    /// The code for an instant (for tests and the enrolment check).
    pub fn code_at(&self, at: DateTime<Utc>) -> String {
        self.totp().generate(unix_secs(at))
    }

    /// The time step `code` belongs to, when it is right at `now` (one step
    /// either side) and from a step after `last_used`: a code is good once,
    /// so one seen over a shoulder or in a proxy's log cannot be replayed.
    pub fn verify(&self, code: &str, now: DateTime<Utc>, last_used: Option<u64>) -> Option<u64> {
        if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = self.totp();
        let current = unix_secs(now) / TOTP_STEP_SECS;
        (current.saturating_sub(TOTP_SKEW_STEPS)..=current + TOTP_SKEW_STEPS)
            .filter(|step| last_used.is_none_or(|used| *step > used))
            .find(|step| constant_time_eq(totp.generate(step * TOTP_STEP_SECS).as_bytes(), code.as_bytes()))
    }
}

fn unix_secs(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

/// Compares secrets without stopping at the first difference.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How long a signed-in session lasts: it ends after `idle` without a
/// request, and after `absolute` whatever happens, so a browser left open in
/// an office does not stay signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy { idle: Duration::minutes(15), absolute: Duration::hours(8) }
    }
}

/// A session's token: 32 random bytes, given to the browser once in an
/// `HttpOnly; Secure; SameSite=Strict` cookie. The store keeps only its
/// SHA-256, so a copy of the database signs nobody in.
pub struct SessionToken(Zeroizing<String>);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

impl SessionToken {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        SessionToken(Zeroizing::new(hex::encode(&bytes[..])))
    }

    /// The cookie's value as the browser sent it; anything not of the form is no session.
    pub fn from_cookie(value: &str) -> Option<Self> {
        (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
            .then(|| SessionToken(Zeroizing::new(value.to_owned())))
    }

    pub fn cookie_value(&self) -> &str {
        &self.0
    }

    /// What the store keys the session by.
    pub fn stored_id(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// A session as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub staff_code: String,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl Session {
    /// Whether the session still signs its staff member in at `now`.
    pub fn is_live(&self, now: DateTime<Utc>, policy: SessionPolicy) -> bool {
        now >= self.started_at && now - self.last_seen_at < policy.idle && now - self.started_at < policy.absolute
    }
}

/// How long to wait before the next sign-in attempt after `failures` in a
/// row, for an account or for an address: none for the first three (typing
/// mistakes), then doubling from 2 seconds to a cap of 15 minutes. Slows a
/// guesser to a few hundred tries a day without locking anyone out for good.
pub fn failure_delay(failures: u32) -> Duration {
    const FREE: u32 = 3;
    const CAP_SECS: i64 = 15 * 60;
    if failures < FREE {
        return Duration::zero();
    }
    let doublings = (failures - FREE).min(20);
    Duration::seconds((2i64 << doublings).min(CAP_SECS))
}

/// An administrator sets a staff member's password (a new account, or one
/// forgotten): checked by the one passphrase rule, hashed, their sessions
/// ended, and audited as the administrator's act.
pub fn set_password(
    store: &dyn crate::store::ClinicStore,
    staff_code: &str,
    by: &str,
    password: &SecretString,
    now: DateTime<Utc>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(), ClinicError> {
    crate::authoring::administrator(store, by)?;
    let record = PasswordRecord::new(password, rng)?;
    store.set_password(staff_code, record.as_stored(), by, now)
}

/// An administrator gives a staff member a new second factor (a first one,
/// or after a lost phone): the secret to show them once, their sessions
/// ended, audited. Every account needs one to sign in.
pub fn reset_second_factor(
    store: &dyn crate::store::ClinicStore,
    staff_code: &str,
    by: &str,
    now: DateTime<Utc>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<TotpSecret, ClinicError> {
    crate::authoring::administrator(store, by)?;
    let secret = TotpSecret::generate(rng);
    store.set_totp_secret(staff_code, secret.as_bytes(), by, now)?;
    Ok(secret)
}

/// What a person typed to sign in, and where from.
pub struct SignInAttempt<'a> {
    pub staff_code: &'a str,
    pub password: &'a SecretString,
    pub totp_code: &'a str,
    /// The network address the request came from, for the per-address delay.
    pub address: &'a str,
}

/// A new session: the token for the cookie and the CSRF token the pages carry.
pub struct SignedIn {
    pub token: SessionToken,
    pub csrf: Zeroizing<String>,
    pub staff_code: String,
}

/// How long failed sign-ins count: a day after the last, a key starts afresh.
pub const FAILURES_REMEMBERED: Duration = Duration::hours(24);
/// The most a staff code's own failures hold it back: a guesser spread over
/// many addresses is still slowed to one guess a minute, but someone who
/// knows a colleague's code cannot keep them out (the per-address delay
/// holds the guesser back in full).
const ACCOUNT_WAIT_CAP: Duration = Duration::seconds(60);

/// What a failed sign-in is counted against: the staff code as typed
/// (whether or not anyone has it, so the delay does not tell which codes
/// exist) and the address. Kept as SHA-256, so whatever was typed in the
/// staff code's box (a name, a password in the wrong box) is not stored.
pub fn failure_keys(staff_code: &str, address: &str) -> (String, String) {
    let key = |text: String| hex::encode(Sha256::digest(text.as_bytes()));
    (key(format!("account {}", staff_code.trim().to_uppercase())), key(format!("address {address}")))
}

/// Signs a staff member in, or refuses without saying which part was wrong.
/// The attempt is counted as a failure before any password is checked, in
/// the same transaction that checks the address's and the code's delay, so
/// attempts sent at once cannot share one window; a good sign-in takes it
/// back. A password is checked even for an unknown account, so the time a
/// refusal takes does not tell which accounts exist.
pub fn sign_in(
    store: &dyn crate::store::ClinicStore,
    attempt: &SignInAttempt<'_>,
    now: DateTime<Utc>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<SignedIn, ClinicError> {
    let (account_key, address_key) = failure_keys(attempt.staff_code, attempt.address);
    let wait = |key: &str, failures: u32, last: DateTime<Utc>| {
        let delay =
            if key == account_key { failure_delay(failures).min(ACCOUNT_WAIT_CAP) } else { failure_delay(failures) };
        Some(last + delay - now).filter(|left| *left > Duration::zero())
    };
    if let Some(left) = store.start_sign_in(&[&account_key, &address_key], &wait, now - FAILURES_REMEMBERED, now)? {
        return Err(ClinicError::RateLimited {
            retry_after_secs: u64::try_from(left.num_seconds()).unwrap_or(1).max(1),
        });
    }
    let member = store.staff(attempt.staff_code)?.filter(|m| m.active);
    let credentials = match &member {
        Some(_) => store.credentials(attempt.staff_code)?,
        None => None,
    };
    let password_text = credentials.as_ref().and_then(|c| c.password.clone());
    let password = password_text.clone().map(PasswordRecord::from_stored).transpose()?;
    let Some(_turn) = HASHING.try_turn(TURN_WAIT, WAITING_AT_MOST) else {
        tracing::warn!("sign-ins are arriving faster than passwords can be checked; one was asked to retry");
        return Err(ClinicError::RateLimited { retry_after_secs: TURN_WAIT.as_secs() });
    };
    let password_ok = match &password {
        Some(record) => record.verify(attempt.password),
        None => {
            // The same work as a real check, so an unknown account answers as slowly.
            let _ = decoy().verify(attempt.password);
            false
        }
    };
    let (Some(credentials), Some(password_text), true) = (credentials, password_text, password_ok) else {
        return Err(ClinicError::SignInRefused);
    };
    let Some(secret_bytes) = credentials.totp_secret.as_ref() else { return Err(ClinicError::SignInRefused) };
    let secret = TotpSecret::from_bytes(secret_bytes.to_vec())?;
    let Some(step) = secret.verify(attempt.totp_code, now, credentials.totp_last_step) else {
        return Err(ClinicError::SignInRefused);
    };
    let token = SessionToken::generate(rng);
    let csrf = SessionToken::generate(rng);
    let good = crate::store::GoodSignIn {
        staff_code: attempt.staff_code,
        account_key: &account_key,
        address_key: &address_key,
        password: &password_text,
        totp_secret: secret.as_bytes(),
        totp_step: step,
        session_id: &token.stored_id(),
        csrf: csrf.cookie_value(),
    };
    // Another request with this code, or an administrator's reset, got there first.
    if !store.sign_in_succeeded(&good, now)? {
        return Err(ClinicError::SignInRefused);
    }
    Ok(SignedIn {
        csrf: Zeroizing::new(csrf.cookie_value().to_owned()),
        token,
        staff_code: attempt.staff_code.to_owned(),
    })
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn").field("staff_code", &self.staff_code).finish_non_exhaustive()
    }
}

/// Builds what sign-in needs before the first request, so the first
/// attempt on an unknown account takes no longer than any other.
pub fn prepare() {
    let _ = decoy();
}

/// A fixed hash to check an attempt against when there is no account.
fn decoy() -> PasswordRecord {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = DECOY.get_or_init(|| {
        SaltString::encode_b64(b"waymark-decoy-salt")
            .ok()
            .and_then(|salt| {
                argon2id().hash_password(b"no account has this password", &salt).ok().map(|h| h.to_string())
            })
            .unwrap_or_default()
    });
    PasswordRecord(text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(7)
    }

    #[test]
    fn a_password_is_kept_as_an_argon2id_hash_and_checked_by_it() {
        let password = SecretString::from("lantern orbit marmalade");
        let record = PasswordRecord::new(&password, &mut rng()).unwrap();
        assert!(record.as_stored().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", record.as_stored());
        assert!(!record.as_stored().contains("lantern"));
        assert!(record.verify(&password));
        assert!(!record.verify(&SecretString::from("lantern orbit marmalad")));
        let again = PasswordRecord::from_stored(record.as_stored().to_owned()).unwrap();
        assert!(again.verify(&password), "a stored hash reads back");
        // The one passphrase rule: what a laptop refuses, the clinic refuses.
        assert!(matches!(
            PasswordRecord::new(&SecretString::from("password1234"), &mut rng()),
            Err(ClinicError::WeakPassphrase { .. })
        ));
        assert!(PasswordRecord::from_stored("$2b$12$abcdefghijklmnopqrstuv".into()).is_err(), "bcrypt is not argon2id");
    }

    #[test]
    fn totp_codes_match_rfc_6238s_own_test_vector() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890": at
        // 59 s the 8-digit code is 94287082, so the 6-digit one is 287082.
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let at = |s: i64| Utc.timestamp_opt(s, 0).unwrap();
        assert_eq!(secret.code_at(at(59)), "287082");
        assert_eq!(secret.code_at(at(1_111_111_109)), "081804");
        assert_eq!(secret.code_at(at(2_000_000_000)), "279037");
    }

    #[test]
    fn a_code_counts_once_within_a_step_either_side() {
        let secret = TotpSecret::generate(&mut rng());
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 10).unwrap();
        let code = secret.code_at(now);
        let step = secret.verify(&code, now, None).expect("the current code is good");
        assert_eq!(secret.verify(&code, now, Some(step)), None, "and good once");
        // A phone 30 s behind still signs in; two minutes behind does not.
        let behind = secret.code_at(now - Duration::seconds(30));
        assert!(secret.verify(&behind, now, None).is_some());
        assert_eq!(secret.verify(&secret.code_at(now - Duration::minutes(2)), now, None), None);
        for wrong in ["", "12345", "1234567", "abcdef", "12345 "] {
            assert_eq!(secret.verify(wrong, now, None), None, "{wrong:?}");
        }
    }

    #[test]
    fn the_secret_an_app_is_given_names_the_staff_code_never_the_person() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        assert_eq!(secret.base32().as_str(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = secret.otpauth_uri("Demo Stalking Clinic", "CRD1");
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/DemoStalkingClinic:CRD1?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=DemoStalkingClinic&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn a_session_ends_when_idle_and_at_its_absolute_lifetime() {
        let policy = SessionPolicy::default();
        let start = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap();
        let mut session = Session { staff_code: "CRD1".into(), started_at: start, last_seen_at: start };
        assert!(session.is_live(start + Duration::minutes(14), policy));
        assert!(!session.is_live(start + Duration::minutes(15), policy), "idle for the whole timeout");
        // Kept busy all day, it still ends at eight hours.
        session.last_seen_at = start + Duration::hours(8) - Duration::minutes(1);
        assert!(session.is_live(start + Duration::hours(8) - Duration::seconds(1), policy));
        assert!(!session.is_live(start + Duration::hours(8), policy));
        assert!(!session.is_live(start - Duration::seconds(1), policy), "a clock set back does not revive one");
    }

    #[test]
    fn a_session_token_is_random_and_only_its_hash_is_kept() {
        let mut rng = rng();
        let (a, b) = (SessionToken::generate(&mut rng), SessionToken::generate(&mut rng));
        assert_ne!(a.cookie_value(), b.cookie_value());
        assert_eq!(a.cookie_value().len(), 64);
        assert_ne!(a.stored_id(), a.cookie_value());
        let back = SessionToken::from_cookie(a.cookie_value()).unwrap();
        assert_eq!(back.stored_id(), a.stored_id());
        for forged in ["", "x", &"A".repeat(64), &format!("{}; Path=/", a.cookie_value())] {
            assert!(SessionToken::from_cookie(forged).is_none(), "{forged:?}");
        }
    }

    #[test]
    fn no_more_hashes_run_at_once_than_the_limit() {
        // A flood of sign-ins must queue for the hash, not hold 19 MiB each at once.
        use std::sync::atomic::{AtomicUsize, Ordering};
        let turns = Turns::new(2);
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        // Each holder waits for a second one before letting go: two at once for
        // certain, and a third would be seen if the limit let one in.
        let pair = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    let _turn = turns.try_turn(std::time::Duration::from_secs(30), 16).unwrap();
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    pair.wait();
                    running.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2, "two at once, and no more");
        assert_eq!(*turns.free.lock().unwrap(), 2, "every turn is given back");
    }

    #[test]
    fn a_sign_in_waits_for_a_turn_only_so_long_and_only_so_many_wait() {
        // A flood must not hold every blocking thread: past the wait or the
        // queue, a sign-in is told to retry instead.
        let turns = Turns::new(1);
        let held = turns.try_turn(std::time::Duration::ZERO, 4).expect("a free turn is taken at once");
        let started = std::time::Instant::now();
        assert!(turns.try_turn(std::time::Duration::from_millis(50), 4).is_none(), "none comes free");
        assert!(started.elapsed() >= std::time::Duration::from_millis(50), "it waited its time");
        assert!(turns.try_turn(std::time::Duration::from_secs(5), 0).is_none(), "a full queue answers at once");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        drop(held);
        assert!(turns.try_turn(std::time::Duration::ZERO, 4).is_some(), "a turn given back is free again");
        assert_eq!(turns.waiting.load(std::sync::atomic::Ordering::SeqCst), 0, "nobody is left counted as waiting");
    }

    #[test]
    fn a_failure_is_counted_under_a_hash_of_what_was_typed() {
        let (account, address) = failure_keys("crd1 ", "10.0.0.1");
        assert_eq!(account, failure_keys("CRD1", "10.0.0.2").0, "one code however it is typed");
        assert_ne!(account, address);
        let (typed, _) = failure_keys("lantern orbit marmalade", "10.0.0.1");
        assert!(!typed.to_lowercase().contains("lantern") && typed.len() == 64, "{typed}");
    }

    #[test]
    fn failed_sign_ins_slow_down_and_the_wait_is_capped() {
        assert_eq!(failure_delay(0), Duration::zero());
        assert_eq!(failure_delay(2), Duration::zero(), "typing mistakes cost nothing");
        assert_eq!(failure_delay(3), Duration::seconds(2));
        assert_eq!(failure_delay(4), Duration::seconds(4));
        assert_eq!(failure_delay(12), Duration::seconds(900));
        assert_eq!(failure_delay(u32::MAX), Duration::seconds(900));
        // About a hundred guesses a day once capped: the count grows, the wait holds.
        let day: i64 = (0..200u32).map(|n| failure_delay(n).num_seconds()).sum();
        assert!(day > 86_400 / 2, "{day}");
    }
}
