//! The commands the UI may call. Each delegates to `Desk` in one line; the
//! error reaches the UI as `{code, message, fields, wait_secs}`. Commands that
//! can take time (scrypt, queries) are async so the window never freezes.

use chrono::NaiveDate;
use tauri::State;
use tauri_plugin_dialog::DialogExt;
use uuid::Uuid;
use waymark_app::{
    AccessRequest, AccessReview, AccessSaved, AccessSubject, CaseView, CreateVault, Desk, DeskError, Fields, NewCase,
    PrintDone, PrintForm, PrintPreview, Quarter, QuarterlyReturn, Resolution, ReturnSaved, Strength, SyncView,
    TableFormat, VaultState, Vocabularies,
};
use waymark_domain::instruments::Instrument;
use waymark_domain::retention::RetentionRow;
use waymark_domain::{CaseId, ExemptionReason, Record, RecordKind};
use waymark_vault::queries::{CaseloadRow, ThisWeek};

type Reply<T> = Result<T, DeskError>;

#[tauri::command]
#[specta::specta]
pub fn vault_state(desk: State<'_, Desk>) -> VaultState {
    desk.state()
}

#[tauri::command]
#[specta::specta]
pub fn passphrase_strength(candidate: String) -> Strength {
    waymark_app::rate_passphrase(candidate)
}

#[tauri::command]
#[specta::specta]
pub async fn create_vault(desk: State<'_, Desk>, form: CreateVault) -> Reply<VaultState> {
    desk.create(form)
}

#[tauri::command]
#[specta::specta]
pub async fn unlock(app: tauri::AppHandle, desk: State<'_, Desk>, passphrase: String) -> Reply<VaultState> {
    let state = desk.unlock(passphrase)?;
    if let Some(counts) = desk.unlock_notice() {
        use tauri_plugin_notification::NotificationExt;
        // Counts only (ThisWeek::notice). A desktop with no notification
        // service shows nothing, which is no reason to refuse the unlock.
        if app.notification().builder().title("Waymark").body(counts).show().is_err() {
            tracing::debug!("the unlock notification could not be shown");
        }
    }
    Ok(state)
}

#[tauri::command]
#[specta::specta]
pub async fn set_unlock_notice(desk: State<'_, Desk>, on: bool) -> Reply<VaultState> {
    desk.set_unlock_notice(on)
}

#[tauri::command]
#[specta::specta]
pub fn lock(desk: State<'_, Desk>) -> VaultState {
    desk.lock()
}

#[tauri::command]
#[specta::specta]
pub async fn set_idle_lock_minutes(desk: State<'_, Desk>, minutes: u32) -> Reply<VaultState> {
    desk.set_idle_lock_minutes(minutes)
}

#[tauri::command]
#[specta::specta]
pub async fn caseload(desk: State<'_, Desk>, query: waymark_app::CaseloadQuery) -> Reply<Vec<CaseloadRow>> {
    desk.caseload(query)
}

#[tauri::command]
#[specta::specta]
pub async fn this_week(desk: State<'_, Desk>) -> Reply<ThisWeek> {
    desk.this_week()
}

#[tauri::command]
#[specta::specta]
pub async fn snooze_reminder(desk: State<'_, Desk>, key: String, days: u32) -> Reply<ThisWeek> {
    desk.snooze_reminder(key, days)
}

#[tauri::command]
#[specta::specta]
pub async fn case_view(desk: State<'_, Desk>, case_id: CaseId) -> Reply<CaseView> {
    desk.case_view(case_id)
}

#[tauri::command]
#[specta::specta]
pub async fn open_case(desk: State<'_, Desk>, form: NewCase, address_confirmed: bool) -> Reply<CaseId> {
    desk.open_case(form, address_confirmed)
}

#[tauri::command]
#[specta::specta]
pub async fn add_record(
    desk: State<'_, Desk>,
    kind: RecordKind,
    case_id: Option<CaseId>,
    fields: Fields,
    address_confirmed: bool,
) -> Reply<Record> {
    desk.add_record(kind, case_id, fields, address_confirmed)
}

#[tauri::command]
#[specta::specta]
pub async fn edit_record(
    desk: State<'_, Desk>,
    kind: RecordKind,
    id: Uuid,
    fields: Fields,
    address_confirmed: bool,
) -> Reply<Record> {
    desk.edit_record(kind, id, fields, address_confirmed)
}

#[tauri::command]
#[specta::specta]
pub async fn amend_incident(
    desk: State<'_, Desk>,
    incident_id: Uuid,
    reason: String,
    changes: Fields,
    address_confirmed: bool,
) -> Reply<Record> {
    desk.amend_incident(incident_id, reason, changes, address_confirmed)
}

#[tauri::command]
#[specta::specta]
pub async fn complete_task(desk: State<'_, Desk>, task_id: Uuid) -> Reply<Record> {
    desk.complete_task(task_id)
}

#[tauri::command]
#[specta::specta]
pub async fn close_case(
    desk: State<'_, Desk>,
    case_id: CaseId,
    closure: Fields,
    address_confirmed: bool,
) -> Reply<Record> {
    desk.close_case(case_id, closure, address_confirmed)
}

#[tauri::command]
#[specta::specta]
pub async fn instruments(desk: State<'_, Desk>) -> Reply<Vec<Instrument>> {
    desk.instruments()
}

#[tauri::command]
#[specta::specta]
pub fn vocabularies() -> Vocabularies {
    Vocabularies::all()
}

#[tauri::command]
#[specta::specta]
pub async fn print_preview(desk: State<'_, Desk>, form: PrintForm) -> Reply<PrintPreview> {
    desk.print_preview(form)
}

/// The native save dialog picks the path, so the web view never names a file.
/// `None` means the user cancelled.
#[tauri::command]
#[specta::specta]
pub async fn print_save(app: tauri::AppHandle, desk: State<'_, Desk>, file_name: String) -> Reply<Option<PrintDone>> {
    desk.print_save_asking(file_name, |name| {
        app.dialog().file().set_file_name(name).add_filter("PDF", &["pdf"]).blocking_save_file()?.into_path().ok()
    })
}

/// This laptop's closed cases against the retention schedule, the due ones first.
#[tauri::command]
#[specta::specta]
pub async fn retention_review(desk: State<'_, Desk>) -> Reply<Vec<RetentionRow>> {
    desk.retention_review()
}

/// Records a subject access request from a case's victim or perpetrator (his names his record).
#[tauri::command]
#[specta::specta]
pub async fn access_request(
    desk: State<'_, Desk>,
    case_id: CaseId,
    subject: AccessSubject,
    perpetrator_id: Option<Uuid>,
    received_on: NaiveDate,
) -> Reply<AccessRequest> {
    desk.access_request(case_id, subject, perpetrator_id, received_on)
}

/// The subject access requests on this laptop, for one case or all, the soonest due first.
#[tauri::command]
#[specta::specta]
pub async fn access_requests(desk: State<'_, Desk>, case_id: Option<CaseId>) -> Reply<Vec<AccessRequest>> {
    desk.access_requests(case_id)
}

/// Records that the requester's identity was checked on a day; no answer is made before.
#[tauri::command]
#[specta::specta]
pub async fn access_identity_checked(desk: State<'_, Desk>, request: Uuid, on: NaiveDate) -> Reply<AccessRequest> {
    desk.access_identity_checked(request, on)
}

/// Every item of a request, with what is withheld and what was released.
#[tauri::command]
#[specta::specta]
pub async fn access_review(desk: State<'_, Desk>, request: Uuid) -> Reply<AccessReview> {
    desk.access_review(request)
}

#[tauri::command]
#[specta::specta]
pub async fn access_release(desk: State<'_, Desk>, request: Uuid, item: String) -> Reply<AccessReview> {
    desk.access_release(request, item)
}

#[tauri::command]
#[specta::specta]
pub async fn access_withhold(
    desk: State<'_, Desk>,
    request: Uuid,
    item: String,
    reason: ExemptionReason,
) -> Reply<AccessReview> {
    desk.access_withhold(request, item, reason)
}

/// Saves the answer as JSON where the native save dialog says. `None` means the user cancelled.
#[tauri::command]
#[specta::specta]
pub async fn access_save_json(
    app: tauri::AppHandle,
    desk: State<'_, Desk>,
    request: Uuid,
) -> Reply<Option<AccessSaved>> {
    desk.access_save_json_asking(request, |name| {
        app.dialog().file().set_file_name(name).add_filter("JSON", &["json"]).blocking_save_file()?.into_path().ok()
    })
}

/// The commissioner's quarterly return for this laptop's caseload; the last full quarter when none is named.
#[tauri::command]
#[specta::specta]
pub async fn quarterly_return(desk: State<'_, Desk>, quarter: Option<Quarter>) -> Reply<QuarterlyReturn> {
    desk.quarterly_return(quarter)
}

/// Saves the return's table where the native save dialog says. `None` means the user cancelled.
#[tauri::command]
#[specta::specta]
pub async fn quarterly_return_save(
    app: tauri::AppHandle,
    desk: State<'_, Desk>,
    quarter: Quarter,
    format: TableFormat,
) -> Reply<Option<ReturnSaved>> {
    let (label, extension) = match format {
        TableFormat::Csv => ("CSV", "csv"),
        TableFormat::Xlsx => ("Excel workbook", "xlsx"),
    };
    desk.quarterly_return_save_asking(quarter, format, |name| {
        app.dialog().file().set_file_name(name).add_filter(label, &[extension]).blocking_save_file()?.into_path().ok()
    })
}

#[tauri::command]
#[specta::specta]
pub async fn print_to_printer(desk: State<'_, Desk>) -> Reply<PrintDone> {
    desk.print_to_printer()
}

#[tauri::command]
#[specta::specta]
pub fn print_close(desk: State<'_, Desk>) {
    desk.print_close()
}

#[tauri::command]
#[specta::specta]
pub async fn sync_view(desk: State<'_, Desk>) -> Reply<SyncView> {
    desk.sync_view()
}

#[tauri::command]
#[specta::specta]
pub async fn sync_enrol(desk: State<'_, Desk>, code: String) -> Reply<SyncView> {
    desk.sync_enrol(code)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_rejoin(desk: State<'_, Desk>, code: String) -> Reply<SyncView> {
    desk.sync_rejoin(code)
}

#[tauri::command]
#[specta::specta]
pub async fn dismiss_problem(desk: State<'_, Desk>, id: i64, reason: String) -> Reply<SyncView> {
    desk.dismiss_problem(id, reason)
}

#[tauri::command]
#[specta::specta]
pub async fn retry_problem(desk: State<'_, Desk>, id: i64) -> Reply<SyncView> {
    desk.retry_problem(id)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_now(desk: State<'_, Desk>) -> Reply<SyncView> {
    desk.sync_now()
}

#[tauri::command]
#[specta::specta]
pub async fn resolve_conflict(desk: State<'_, Desk>, id: String, keep: Resolution) -> Reply<SyncView> {
    desk.resolve_conflict(id, keep)
}

/// Asks the clinic, after a sync, whether it offers a newer app. Nothing is
/// fetched or installed until the advocate says so (`update_install`).
#[tauri::command]
#[specta::specta]
pub async fn update_check(
    app: tauri::AppHandle,
    desk: State<'_, Desk>,
    pending: State<'_, crate::updates::PendingUpdate>,
) -> Reply<Option<crate::updates::UpdateInfo>> {
    let Some(key) = crate::updates::release_key(&app) else { return Ok(None) };
    let Some(source) = desk.update_source()? else { return Ok(None) };
    let found = crate::updates::check(&app, source, &key).await?;
    let info = found.as_ref().map(crate::updates::UpdateInfo::of);
    if let Ok(mut slot) = pending.0.lock() {
        *slot = found;
    }
    Ok(info)
}

/// Installs the update the advocate was shown (`version`), once its
/// signature holds, and restarts. A different one found since is not installed.
#[tauri::command]
#[specta::specta]
pub async fn update_install(
    app: tauri::AppHandle,
    pending: State<'_, crate::updates::PendingUpdate>,
    version: String,
) -> Reply<()> {
    let update =
        pending.0.lock().ok().and_then(|mut slot| slot.take()).filter(|u| u.version == version).ok_or_else(|| {
            DeskError::new(
                waymark_domain::codes::ErrorCode::NotFound,
                "That update is no longer waiting. Sync again to see what your clinic offers.",
            )
        })?;
    crate::updates::install(&app, update).await
}

/// Every command, for the invoke handler and the bindings. The build script
/// lists the same names so each needs an explicit permission.
pub fn all() -> tauri_specta::Commands<tauri::Wry> {
    tauri_specta::collect_commands![
        vault_state,
        passphrase_strength,
        create_vault,
        unlock,
        lock,
        set_idle_lock_minutes,
        set_unlock_notice,
        caseload,
        this_week,
        snooze_reminder,
        case_view,
        open_case,
        add_record,
        edit_record,
        amend_incident,
        complete_task,
        close_case,
        instruments,
        vocabularies,
        print_preview,
        print_save,
        print_to_printer,
        print_close,
        quarterly_return,
        quarterly_return_save,
        retention_review,
        access_request,
        access_requests,
        access_identity_checked,
        access_review,
        access_release,
        access_withhold,
        access_save_json,
        sync_view,
        sync_enrol,
        sync_rejoin,
        sync_now,
        resolve_conflict,
        dismiss_problem,
        retry_problem,
        update_check,
        update_install,
    ]
}
