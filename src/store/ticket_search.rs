//! Full-text search over tickets, for the customer's lists
//! (`store::portal`) and the agent's queues (`store::agent`): the condition
//! a list adds to its `where` clause for the text typed in its search box.
//!
//! A ticket matches when its subject and description together, or one of
//! the comments the viewer may read, contain every word typed, whatever the
//! accents and case. The text is read like the Help Center's search
//! (`service::hc`): on SQLite every word is quoted and matched as a prefix
//! in the FTS5 indexes `ticket_search` and `comment_search`; on PostgreSQL
//! the text goes to `websearch_to_tsquery` over the `search_vector` columns,
//! folded by `hc_fold` like the indexed text. Neither reads anything typed
//! as syntax of its own, so no input makes the query fail.
//!
//! Either way the list keeps walking its own index in list order
//! (organization, time, id) and stops after a page. On SQLite the condition
//! is `t.id in (…)`: the matching tickets are found once through the FTS5
//! indexes, and each ticket the list reads is looked up among them. Building
//! that set costs about a microsecond per match, so a common word (tens of
//! thousands of tickets) would cost tens of milliseconds per query if every
//! match were collected; the list therefore passes its [`Scope`] (the
//! organizations it reads, or the requester of "my tickets"), and the ticket
//! index matches the words and the scope together: `ticket_search` carries
//! each ticket's organization and requester as tokens that no typed word can
//! match (`migrations/sqlite/0014_ticket_search_scope.sql`), so only the
//! matches inside the scope leave FTS5. The scope only narrows the set: the
//! list's own conditions still decide what the viewer may see. Comments are
//! indexed one by one without a scope (`comment_search`). On PostgreSQL the
//! ticket's `search_vector` is tested on the row itself and its comments
//! through `exists`, which the planner turns into one hashed set when few
//! comments match; the scope is not used there.

use sqlx::{Database, Encode, Postgres, QueryBuilder, Type};

use crate::service::hc::{clean_query, fts5_expression};

/// Which comments the text is searched in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comments {
    /// Public comments only: the customer's view.
    Public,
    /// Every comment, internal notes included: the agent's view.
    All,
}

/// The tickets a list reads, as far as the search index knows them: the
/// set of matches is collected within it. It never grants anything: a list
/// passes what its own conditions already restrict it to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Any ticket (the agent's queues, or too many organizations).
    Any,
    /// Tickets of these organizations; none given reads as [`Scope::Any`].
    Orgs(&'a [i64]),
    /// Tickets with this requester.
    Requester(i64),
}

/// Above this many organizations the scope is left out of the expression.
const MAX_SCOPE_ORGS: usize = 64;

/// The character that starts every scope token in `ticket_search`
/// (U+E000, private use): unicode61 keeps it inside a token, while a typed
/// word, a run of letters and digits, never contains it.
const SCOPE_MARK: char = '\u{e000}';

/// The FTS5 expression of `ticket_search` for the words and the scope.
fn scoped(words: &str, scope: Scope<'_>) -> String {
    let tokens: Vec<String> = match scope {
        Scope::Any => Vec::new(),
        Scope::Orgs(orgs) if orgs.len() > MAX_SCOPE_ORGS => Vec::new(),
        Scope::Orgs(orgs) => orgs
            .iter()
            .map(|org| format!("\"{SCOPE_MARK}o{org}\""))
            .collect(),
        Scope::Requester(user) => vec![format!("\"{SCOPE_MARK}u{user}\"")],
    };
    if tokens.is_empty() {
        words.to_owned()
    } else {
        format!("({words}) AND ({})", tokens.join(" OR "))
    }
}

/// Fills the SQLite index `ticket_search` from every ticket, in one pass:
/// after a bulk load (`store::bench`), with the same scope tokens as the
/// triggers of `migrations/sqlite/0014_ticket_search_scope.sql`. The index is
/// contentless, so FTS5's `rebuild` command cannot do it.
pub const SQLITE_FILL_TICKET_SEARCH: &str = "insert into ticket_search (rowid, subject, description, scope) \
     select id, subject, description, \
     coalesce(char(57344) || 'o' || organization_id || ' ', '') || char(57344) || 'u' || requester_id \
     from tickets";

/// What to match, as the engine reads it.
enum Matcher {
    /// An FTS5 expression whose every word is quoted.
    Fts5(String),
    /// Text for `websearch_to_tsquery`.
    WebSearch(String),
    /// Nothing typed can match: no letter or digit at all.
    Nothing,
}

fn matcher<DB: Database>(text: &str) -> Option<Matcher> {
    let query = clean_query(text);
    if query.is_empty() {
        return None;
    }
    if !query.chars().any(char::is_alphanumeric) {
        return Some(Matcher::Nothing);
    }
    Some(if DB::NAME == <Postgres as Database>::NAME {
        Matcher::WebSearch(query)
    } else {
        fts5_expression(&query).map_or(Matcher::Nothing, Matcher::Fts5)
    })
}

/// Adds ` and <the ticket matches text>` to a query over `tickets t`;
/// nothing when the text is blank. Text without a single letter or digit
/// matches no ticket. `scope` holds what the query's other conditions
/// already restrict it to (see [`Scope`]).
pub fn push_text_condition<DB>(
    q: &mut QueryBuilder<DB>,
    text: &str,
    comments: Comments,
    scope: Scope<'_>,
) where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    let public_only = match comments {
        Comments::Public => " and c.public = true",
        Comments::All => "",
    };
    match matcher::<DB>(text) {
        None => {}
        Some(Matcher::Nothing) => {
            q.push(" and 1 = 0");
        }
        Some(Matcher::Fts5(expression)) => {
            q.push(" and t.id in (select rowid from ticket_search where ticket_search match ");
            q.push_bind(scoped(&expression, scope));
            q.push(
                " union all select c.ticket_id from comment_search \
                 join comments c on c.id = comment_search.rowid where comment_search match ",
            );
            q.push_bind(expression);
            q.push(public_only);
            q.push(")");
        }
        Some(Matcher::WebSearch(query)) => {
            // The ticket's own text is checked on the row the list reads;
            // comments through a correlated `exists`, which PostgreSQL runs
            // as one hashed lookup of the matching comments when they are
            // few and ticket by ticket when they are many.
            q.push(
                " and (t.search_vector @@ websearch_to_tsquery('portuguese'::regconfig, hc_fold(",
            );
            q.push_bind(query.clone());
            q.push(
                ")) or exists (select 1 from comments c where c.ticket_id = t.id and c.search_vector @@ \
                 websearch_to_tsquery('portuguese'::regconfig, hc_fold(",
            );
            q.push_bind(query);
            q.push("))");
            q.push(public_only);
            q.push("))");
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Sqlite;

    use super::*;

    fn sql<DB>(text: &str, comments: Comments) -> String
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = QueryBuilder::<DB>::new("select t.id from tickets t where 1 = 1");
        push_text_condition(&mut q, text, comments, Scope::Any);
        q.sql().as_str().to_owned()
    }

    #[test]
    fn blank_text_adds_no_condition_and_symbols_match_nothing() {
        let base = "select t.id from tickets t where 1 = 1";
        assert_eq!(sql::<Sqlite>("  \t ", Comments::All), base);
        assert_eq!(sql::<Postgres>("", Comments::All), base);
        assert_eq!(
            sql::<Sqlite>("\"*( -", Comments::Public),
            format!("{base} and 1 = 0")
        );
        assert_eq!(
            sql::<Postgres>("\"*( -", Comments::Public),
            format!("{base} and 1 = 0")
        );
    }

    #[test]
    fn only_the_portal_leaves_internal_notes_out() {
        for public in [
            sql::<Sqlite>("boleto", Comments::Public),
            sql::<Postgres>("boleto", Comments::Public),
        ] {
            assert!(public.contains("c.public = true"), "{public}");
        }
        for all in [
            sql::<Sqlite>("boleto", Comments::All),
            sql::<Postgres>("boleto", Comments::All),
        ] {
            assert!(!all.contains("public"), "{all}");
        }
        assert!(sql::<Sqlite>("boleto", Comments::All).contains("comment_search match"));
        assert!(sql::<Postgres>("boleto", Comments::All).contains("websearch_to_tsquery"));
    }

    #[test]
    fn the_scope_narrows_the_ticket_expression() {
        let words = "\"boleto\"* \"vencido\"*";
        assert_eq!(scoped(words, Scope::Any), words);
        assert_eq!(scoped(words, Scope::Orgs(&[])), words);
        assert_eq!(
            scoped(words, Scope::Orgs(&[1, 5001])),
            "(\"boleto\"* \"vencido\"*) AND (\"\u{e000}o1\" OR \"\u{e000}o5001\")"
        );
        assert_eq!(
            scoped(words, Scope::Requester(7)),
            "(\"boleto\"* \"vencido\"*) AND (\"\u{e000}u7\")"
        );
        let many: Vec<i64> = (1..=100).collect();
        assert_eq!(scoped(words, Scope::Orgs(&many)), words);
        // A typed word never holds the mark, so it cannot reach a scope token.
        assert_eq!(fts5_expression("\u{e000}o1").as_deref(), Some("\"o1\"*"));
    }
}
