// The workspace's own types, as the clinic server sends them (waymark-clinic's workspace.rs).
export type StaffRole = "administrator" | "coordinator" | "manager" | "panel_member" | "advocate" | "referrer";
export type SignedIn = { staff_code: string; name: string; role: StaffRole; csrf: string; ends_at: string };
export type StaffEntry = { code: string; name: string; role: StaffRole; active: boolean; added_at: string };
export type DeviceEntry = {
  id: string;
  advocate: string;
  confirmed: boolean;
  status: "active" | "revoked";
  enrolled_at: string;
  revoked_at: string | null;
  last_seen_at: string | null;
  acked_through: number;
};
export type ApiError = { code: string; message: string };
