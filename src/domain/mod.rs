//! The help desk's rules, free of I/O: ticket statuses and their labels, who may change a
//! status, time in each status, and business hours. Depends only on std, serde, jiff and
//! thiserror, never on axum, sqlx, `object_store` or tokio, so every rule is unit-tested without
//! a database or a runtime, and the store, services and jobs all share one definition.

pub mod business_hours;
pub mod ids;
pub mod lifecycle;
pub mod status;
pub mod time_in_status;

pub use business_hours::{
    BusinessCalendar, CalendarError, brazil_national_holidays, easter_sunday,
};
pub use ids::{AttachmentId, CommentId, Email, GroupId, OrgId, Role, TicketId, UserId};
pub use lifecycle::{
    ActorKind, ReplyEffect, TransitionError, check_transition, customer_can_confirm_solution,
    customer_reply_effect,
};
pub use status::{Lang, StatusCategory, TicketStatus, TicketType, UnknownKey};
pub use time_in_status::{
    StatusEvent, StatusSpan, StatusTotal, TimeInStatus, format_duration, time_in_status,
};
