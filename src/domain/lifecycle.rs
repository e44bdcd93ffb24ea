//! Ticket status lifecycle: which status changes each kind of actor may make, and what a
//! customer reply does to a ticket (DESIGN §2). Pure decisions: no I/O, no clock (the caller
//! passes `now`).

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::status::{TicketStatus, UnknownKey};

/// Who makes a status change; recorded on every status event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Customer,
    Agent,
    /// Jobs: the triage timeout and auto-solve.
    System,
}

impl ActorKind {
    pub const ALL: [ActorKind; 3] = [ActorKind::Customer, ActorKind::Agent, ActorKind::System];

    /// Stable key: stored with each status event.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            ActorKind::Customer => "customer",
            ActorKind::Agent => "agent",
            ActorKind::System => "system",
        }
    }

    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.key() == key)
    }
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl std::str::FromStr for ActorKind {
    type Err = UnknownKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_key(s).ok_or_else(|| UnknownKey(s.to_owned()))
    }
}

/// Why a status change was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Refused rather than ignored so that the event log never holds a change that changed
    /// nothing, which would count as a second entry in time-in-status.
    #[error("the ticket is already {0}")]
    Same(TicketStatus),
    #[error(
        "moving a ticket from {} to {to} is not allowed for the {actor}",
        .from.map_or("creation", TicketStatus::key)
    )]
    NotAllowed {
        /// `None` when the ticket is being created.
        from: Option<TicketStatus>,
        to: TicketStatus,
        actor: ActorKind,
    },
    /// For the service layer to report [`ReplyEffect::TooOldToReopen`] as an error.
    #[error("the ticket was solved too long ago to be reopened")]
    SolvedTooLongAgo,
}

/// Decides whether `actor` may move a ticket from `from` (`None`: the ticket is being
/// created) to `to`.
///
/// - Creation: into `sent` by anyone; into `abandoned_triage` only by the system, when the
///   triage timeout fires on an unfinished triage (the ticket is recorded so it stays in the
///   customer's history).
/// - Agents: freely among `sent`, `in_progress`, `with_tech`, `awaiting_reply`, `solved`.
///   Never into or out of `abandoned_triage`: that status says the customer never finished
///   the mandatory questions, which stays true whatever an agent does later.
/// - Customers: `awaiting_reply` → `in_progress` (reply), `awaiting_reply` → `solved`
///   (confirm the solution), `solved` → `in_progress` (reopen by replying; whether the ticket
///   is still inside the reopen window is [`customer_reply_effect`]'s call, because this
///   function has no clock).
/// - System: `awaiting_reply` → `solved` (auto-solve). `sent` → `abandoned_triage` is refused
///   on purpose: a ticket reaches `sent` only once the mandatory questions were answered, so
///   marking it abandoned later would misreport it; an unanswered `sent` ticket is the support
///   team's to chase.
///
/// # Errors
///
/// [`TransitionError::Same`] when `to` is the current status (for any actor), otherwise
/// [`TransitionError::NotAllowed`] for every change not listed above.
pub fn check_transition(
    from: Option<TicketStatus>,
    to: TicketStatus,
    actor: ActorKind,
) -> Result<(), TransitionError> {
    use TicketStatus::{AbandonedTriage, AwaitingReply, InProgress, Sent, Solved};

    if from == Some(to) {
        return Err(TransitionError::Same(to));
    }
    let allowed = match (from, actor) {
        (None, _) if to == Sent => true,
        (None, ActorKind::System) => to == AbandonedTriage,
        (None, _) => false,
        (Some(from), ActorKind::Agent) => from != AbandonedTriage && to != AbandonedTriage,
        (Some(from), ActorKind::Customer) => matches!(
            (from, to),
            (AwaitingReply, InProgress | Solved) | (Solved, InProgress)
        ),
        (Some(from), ActorKind::System) => from == AwaitingReply && to == Solved,
    };
    if allowed {
        Ok(())
    } else {
        Err(TransitionError::NotAllowed { from, to, actor })
    }
}

/// What a customer's public reply does to the ticket's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyEffect {
    /// The reply is added; the status does not change (the team is already on it).
    Stay,
    /// The reply is added and the ticket moves to this status.
    MoveTo(TicketStatus),
    /// The ticket was solved recently: the reply reopens it, to `in_progress`.
    Reopen,
    /// The ticket was solved longer ago than the reopen window (or when is unknown): the reply
    /// is refused and the customer should open a new ticket.
    TooOldToReopen,
    /// The ticket was abandoned in triage: it never became a real request, so there is
    /// nothing to reply to; the customer should open a new ticket.
    Closed,
}

impl ReplyEffect {
    /// The status the ticket ends in, when the reply changes it.
    #[must_use]
    pub fn new_status(self) -> Option<TicketStatus> {
        match self {
            ReplyEffect::MoveTo(status) => Some(status),
            ReplyEffect::Reopen => Some(TicketStatus::InProgress),
            ReplyEffect::Stay | ReplyEffect::TooOldToReopen | ReplyEffect::Closed => None,
        }
    }

    /// Whether the reply must be refused.
    #[must_use]
    pub fn is_refused(self) -> bool {
        matches!(self, ReplyEffect::TooOldToReopen | ReplyEffect::Closed)
    }
}

/// Decides what a customer reply does to a ticket in `status`.
///
/// The reopen window is inclusive: a reply exactly `reopen_window` after the solution still
/// reopens. A solved ticket without a known `solved_at` is treated as too old, since the
/// window is a promise about recency that cannot be checked.
#[must_use]
pub fn customer_reply_effect(
    status: TicketStatus,
    solved_at: Option<Timestamp>,
    now: Timestamp,
    reopen_window: SignedDuration,
) -> ReplyEffect {
    match status {
        TicketStatus::AwaitingReply => ReplyEffect::MoveTo(TicketStatus::InProgress),
        TicketStatus::Solved => match solved_at {
            Some(at) if now.duration_since(at) <= reopen_window => ReplyEffect::Reopen,
            _ => ReplyEffect::TooOldToReopen,
        },
        TicketStatus::AbandonedTriage => ReplyEffect::Closed,
        TicketStatus::Sent | TicketStatus::InProgress | TicketStatus::WithTech => ReplyEffect::Stay,
    }
}

/// Whether the customer may press "confirm solution": only when the team asked them to
/// validate it, i.e. while the ticket awaits their reply.
#[must_use]
pub fn customer_can_confirm_solution(status: TicketStatus) -> bool {
    status == TicketStatus::AwaitingReply
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::{AbandonedTriage, AwaitingReply, InProgress, Sent, Solved, WithTech};

    const WORKING: [TicketStatus; 5] = [Sent, InProgress, WithTech, AwaitingReply, Solved];

    fn allowed(from: Option<TicketStatus>, to: TicketStatus, actor: ActorKind) -> bool {
        check_transition(from, to, actor).is_ok()
    }

    #[test]
    fn creation_goes_to_sent_for_anyone_and_to_abandoned_only_for_the_system() {
        for actor in ActorKind::ALL {
            assert!(allowed(None, Sent, actor), "{actor}");
        }
        assert!(allowed(None, AbandonedTriage, ActorKind::System));
        assert!(!allowed(None, AbandonedTriage, ActorKind::Agent));
        assert!(!allowed(None, AbandonedTriage, ActorKind::Customer));
        for to in [InProgress, WithTech, AwaitingReply, Solved] {
            for actor in ActorKind::ALL {
                assert!(!allowed(None, to, actor), "{to} by {actor}");
            }
        }
    }

    #[test]
    fn agents_move_freely_among_working_statuses_but_never_to_the_same_one() {
        for from in WORKING {
            for to in WORKING {
                let result = check_transition(Some(from), to, ActorKind::Agent);
                if from == to {
                    assert_eq!(result, Err(TransitionError::Same(to)));
                } else {
                    assert_eq!(result, Ok(()), "{from} -> {to}");
                }
            }
        }
    }

    #[test]
    fn agents_never_move_into_or_out_of_abandoned_triage() {
        for status in WORKING {
            assert!(!allowed(Some(status), AbandonedTriage, ActorKind::Agent));
            assert!(!allowed(Some(AbandonedTriage), status, ActorKind::Agent));
        }
    }

    #[test]
    fn customers_may_only_reply_confirm_or_reopen() {
        let mut permitted = Vec::new();
        for from in TicketStatus::ALL {
            for to in TicketStatus::ALL {
                if allowed(Some(from), to, ActorKind::Customer) {
                    permitted.push((from, to));
                }
            }
        }
        assert_eq!(
            permitted,
            [
                (AwaitingReply, InProgress),
                (AwaitingReply, Solved),
                (Solved, InProgress)
            ]
        );
    }

    #[test]
    fn the_system_may_only_auto_solve_and_never_abandons_a_sent_ticket() {
        let mut permitted = Vec::new();
        for from in TicketStatus::ALL {
            for to in TicketStatus::ALL {
                if allowed(Some(from), to, ActorKind::System) {
                    permitted.push((from, to));
                }
            }
        }
        assert_eq!(permitted, [(AwaitingReply, Solved)]);
        assert_eq!(
            check_transition(Some(Sent), AbandonedTriage, ActorKind::System),
            Err(TransitionError::NotAllowed {
                from: Some(Sent),
                to: AbandonedTriage,
                actor: ActorKind::System,
            })
        );
    }

    #[test]
    fn transition_errors_read_well() {
        let err = TransitionError::NotAllowed {
            from: Some(Solved),
            to: WithTech,
            actor: ActorKind::Customer,
        };
        assert_eq!(
            err.to_string(),
            "moving a ticket from solved to with_tech is not allowed for the customer"
        );
        let err = TransitionError::NotAllowed {
            from: None,
            to: Solved,
            actor: ActorKind::Agent,
        };
        assert_eq!(
            err.to_string(),
            "moving a ticket from creation to solved is not allowed for the agent"
        );
        assert_eq!(
            TransitionError::Same(Sent).to_string(),
            "the ticket is already sent"
        );
    }

    #[test]
    fn actor_keys_round_trip() {
        for actor in ActorKind::ALL {
            assert_eq!(ActorKind::from_key(actor.key()), Some(actor));
            assert_eq!(actor.to_string().parse::<ActorKind>(), Ok(actor));
        }
        assert_eq!(ActorKind::from_key("bot"), None);
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp in test")
    }

    #[test]
    fn a_reply_while_awaiting_moves_to_in_progress_and_others_stay() {
        let now = ts("2026-03-10T12:00:00Z");
        let window = SignedDuration::from_hours(24 * 7);
        assert_eq!(
            customer_reply_effect(AwaitingReply, None, now, window),
            ReplyEffect::MoveTo(InProgress)
        );
        for status in [Sent, InProgress, WithTech] {
            assert_eq!(
                customer_reply_effect(status, None, now, window),
                ReplyEffect::Stay
            );
        }
        assert_eq!(
            customer_reply_effect(AbandonedTriage, None, now, window),
            ReplyEffect::Closed
        );
        assert!(ReplyEffect::Closed.is_refused());
        assert_eq!(
            ReplyEffect::MoveTo(InProgress).new_status(),
            Some(InProgress)
        );
        assert_eq!(ReplyEffect::Stay.new_status(), None);
    }

    #[test]
    fn a_reply_reopens_a_solved_ticket_up_to_and_including_the_window_edge() {
        let solved_at = ts("2026-03-01T12:00:00Z");
        let window = SignedDuration::from_hours(24 * 7);
        let edge = ts("2026-03-08T12:00:00Z");
        let effect = |now| customer_reply_effect(Solved, Some(solved_at), now, window);

        assert_eq!(effect(ts("2026-03-01T12:00:01Z")), ReplyEffect::Reopen);
        assert_eq!(effect(edge), ReplyEffect::Reopen);
        assert_eq!(ReplyEffect::Reopen.new_status(), Some(InProgress));
        let just_after = edge
            .checked_add(SignedDuration::from_nanos(1))
            .expect("in range");
        assert_eq!(effect(just_after), ReplyEffect::TooOldToReopen);
        assert!(ReplyEffect::TooOldToReopen.is_refused());
        // A clock slightly behind the one that solved it must not lock the customer out.
        assert_eq!(effect(ts("2026-03-01T11:59:00Z")), ReplyEffect::Reopen);
    }

    #[test]
    fn a_solved_ticket_with_unknown_solution_time_is_not_reopened() {
        let now = ts("2026-03-10T12:00:00Z");
        assert_eq!(
            customer_reply_effect(Solved, None, now, SignedDuration::from_hours(24)),
            ReplyEffect::TooOldToReopen
        );
    }

    #[test]
    fn only_a_ticket_awaiting_the_customer_can_have_its_solution_confirmed() {
        for status in TicketStatus::ALL {
            assert_eq!(
                customer_can_confirm_solution(status),
                status == AwaitingReply
            );
        }
    }
}
