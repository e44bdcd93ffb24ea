//! Full-text search over tickets, for the customer's lists
//! (`store::portal`) and the agent's queues (`store::agent`): the condition
//! a list adds to its `where` clause for the text typed in its search box.
//!
//! A ticket matches when its subject and description together, or one of
//! the comments the viewer may read, contain every word typed, whatever the
//! accents and case. The text is read like the Help Center's search
//! (`service::hc`): on SQLite every word is made singular and matched as a
//! prefix in the FTS5 indexes `ticket_search` and `comment_search`; on
//! PostgreSQL the text goes to `websearch_to_tsquery` over the
//! `search_vector` columns, folded by `hc_fold` like the indexed text.
//! Neither reads anything typed as syntax of its own, so no input makes the
//! query fail.
//!
//! Either way the list keeps walking its own index in list order
//! (organization, time, id) and stops after a page. On SQLite the condition
//! is `t.id in (…)`: the matching tickets are found once through the FTS5
//! indexes, and each ticket the list reads is looked up among them. Two
//! things keep that set cheap on a large help desk
//! (`migrations/sqlite/0016_ticket_search_by_organization.sql`):
//!
//! - the ticket index's rowid carries the ticket's organization in its high
//!   32 bits, so a list that reads some organizations (its [`Scope`]) asks
//!   FTS5 for one rowid range per organization, and FTS5 seeks to that range
//!   in each term's list instead of reading every organization's matches;
//!   "my tickets" narrows by the requester, a token in the index's `scope`
//!   column that no typed word can match;
//! - a prefix is not left to FTS5, which would merge the lists of all the
//!   terms that start with it, over every organization, before the range
//!   applies. [`TextSearch::prepare`] looks the terms up in the indexes'
//!   vocabularies (`ticket_search_terms`, `comment_search_terms`) and matches
//!   each exactly; a word with no term or with more than [`MAX_TERMS`] keeps
//!   the prefix form, which is then either empty or as before.
//!
//! The scope only narrows the set: the list's own conditions still decide
//! what the viewer may see. Comments are indexed one by one without a scope
//! (`comment_search`). On PostgreSQL a list tests the ticket's
//! `search_vector` on the row itself and its comments through `exists`,
//! which the planner turns into one hashed set when few comments match; the
//! scope is not used there. Counts, which read every match, start from the
//! matches instead: PostgreSQL's scoped GIN indexes (migration 0020) carry
//! the same scope as tokens, and [`push_counted_tickets`] asks them for
//! the matches within it.

use sqlx::{Database, Postgres, Sqlite};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

use super::{Db, StoreError, lane::SqlBuilder};
use crate::service::hc::{clean_query, fts5_quoted, fts5_words};

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

/// Above this many organizations the scope is left out of the query.
const MAX_SCOPE_ORGS: usize = 64;

/// Above this many terms starting with a typed word, the word is left to
/// FTS5 as a prefix.
pub const MAX_TERMS: usize = 32;

/// The character that starts every scope token in `ticket_search`
/// (U+E000, private use): unicode61 keeps it inside a token, while a typed
/// word, a run of letters and digits, never contains it.
const SCOPE_MARK: char = '\u{e000}';

/// `ticket_search`'s rowid: the organization (0 for none) above the
/// ticket's id. The SQL twins are in the triggers of migration 0016 and in
/// [`SQLITE_FILL_TICKET_SEARCH`].
const ORG_SHIFT: u32 = 32;

/// The rowids of one organization's tickets in `ticket_search`, as a
/// half-open range; `None` for an id too large to shift (never issued).
fn org_rowids(org: i64) -> Option<(i64, i64)> {
    let low = org.checked_mul(1 << ORG_SHIFT)?;
    let high = org.checked_add(1)?.checked_mul(1 << ORG_SHIFT)?;
    (org >= 0).then_some((low, high))
}

/// Fills the SQLite index `ticket_search` from every ticket, in one pass:
/// after a bulk load (`store::bench`), with the same rowids and scope tokens
/// as the triggers of
/// `migrations/sqlite/0016_ticket_search_by_organization.sql`. The index is
/// contentless, so FTS5's `rebuild` command cannot do it.
pub const SQLITE_FILL_TICKET_SEARCH: &str = "insert into ticket_search (rowid, subject, description, scope) \
     select (coalesce(organization_id, 0) << 32) | id, subject, description, \
     char(57344) || 'u' || requester_id \
     from tickets";

/// A recursive CTE `$name(i, word, term, n)`: for each word of `w`, the
/// terms of the FTS5 vocabulary table `$vocab` that start with it.
macro_rules! terms_of {
    ($name:literal, $vocab:literal) => {
        concat!(
            $name,
            "(i, word, term, n) as (select i, word, (select term from ",
            $vocab,
            " where term >= w.word and term < w.word || char(1114111) limit 1), 1 from w \
             union all select i, word, (select term from ",
            $vocab,
            " where term >= ",
            $name,
            ".term || char(0) and term < ",
            $name,
            ".word || char(1114111) limit 1), n + 1 from ",
            $name,
            " where term is not null and n <= $2)"
        )
    };
}

/// The terms of both SQLite indexes that start with each word (a JSON array
/// in `$1`), at most `$2` + 1 per word and index, in term order: each step
/// is one seek in the vocabulary to the first term after the previous one
/// (`term >= previous || char(0)`: with `term > previous` the vocabulary
/// would walk every occurrence of the previous term first).
const SQLITE_TERMS: &str = concat!(
    "with recursive w(i, word) as (select key, value from json_each($1)), ",
    terms_of!("tt", "ticket_search_terms"),
    ", ",
    terms_of!("ct", "comment_search_terms"),
    " select 0, i, term from tt where term is not null \
     union all select 1, i, term from ct where term is not null"
);

/// A word as unicode61 with `remove_diacritics 2` indexes it: lower case
/// (already done by `fts5_words`), accents taken off.
fn folded(word: &str) -> String {
    word.nfd().filter(|c| !is_combining_mark(*c)).collect()
}

/// One side's FTS5 expression: every word required, each as the exact terms
/// found for it or, with none or too many, as a prefix.
fn expression(words: &[String], terms: &[Vec<String>]) -> String {
    words
        .iter()
        .zip(terms)
        .map(|(word, found)| match found.len() {
            0 => format!("{}*", fts5_quoted(word)),
            n if n > MAX_TERMS => format!("{}*", fts5_quoted(word)),
            1 => fts5_quoted(&found[0]),
            _ => format!(
                "({})",
                found
                    .iter()
                    .map(|t| fts5_quoted(t))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// What to match, as the engine reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Matcher {
    /// FTS5 expressions whose every term is quoted: for `ticket_search` and
    /// for `comment_search`.
    Fts5 { tickets: String, comments: String },
    /// Text for `websearch_to_tsquery`.
    WebSearch(String),
    /// Nothing typed can match: no letter or digit at all.
    Nothing,
}

/// The text of a search box, ready for one list's query on one engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextSearch(Matcher);

impl TextSearch {
    /// Reads `text` for `db`'s engine; `None` when it is blank. On SQLite
    /// each word's prefix is expanded into the indexes' terms (one query).
    pub async fn prepare(db: &Db, text: Option<&str>) -> Result<Option<Self>, StoreError> {
        let Some(text) = text else {
            return Ok(None);
        };
        let pool = match db {
            Db::Postgres(..) => return Ok(Self::parse::<Postgres>(text)),
            Db::Sqlite(pool, _) => pool,
        };
        let words = fts5_words(&clean_query(text));
        match Self::parse::<Sqlite>(text) {
            Some(Self(Matcher::Fts5 { .. })) if !words.is_empty() => {}
            other => return Ok(other),
        }
        let folded_words: Vec<String> = words.iter().map(|w| folded(w)).collect();
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(SQLITE_TERMS)
            .bind(serde_json::to_string(&folded_words).map_err(anyhow::Error::from)?)
            .bind(i64::try_from(MAX_TERMS).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await?;
        let mut ticket_terms = vec![Vec::new(); words.len()];
        let mut comment_terms = vec![Vec::new(); words.len()];
        for (side, i, term) in rows {
            let side = if side == 0 {
                &mut ticket_terms
            } else {
                &mut comment_terms
            };
            if let Some(found) = usize::try_from(i).ok().and_then(|i| side.get_mut(i)) {
                found.push(term);
            }
        }
        Ok(Some(Self(Matcher::Fts5 {
            tickets: expression(&words, &ticket_terms),
            comments: expression(&words, &comment_terms),
        })))
    }

    /// Whether a statement holding this search should be planned for its
    /// values each time rather than prepared once. PostgreSQL switches a
    /// prepared statement to a generic plan after five runs; for a search
    /// that plan evaluates `websearch_to_tsquery` on every row and looks up
    /// comments ticket by ticket whatever the word (4.4 ms instead of 0.7
    /// on the largest organization, BENCHMARKS.md), where a plan made for
    /// the word knows whether it is rare or common.
    pub fn plans_per_value(search: Option<&Self>) -> bool {
        matches!(search, Some(Self(Matcher::WebSearch(_))))
    }

    /// Reads `text` for the engine `DB` without looking at any index: on
    /// SQLite every word is left to FTS5 as a prefix. `None` when blank.
    pub fn parse<DB: Database>(text: &str) -> Option<Self> {
        let query = clean_query(text);
        if query.is_empty() {
            return None;
        }
        if !query.chars().any(char::is_alphanumeric) {
            return Some(Self(Matcher::Nothing));
        }
        Some(Self(if DB::NAME == <Postgres as Database>::NAME {
            Matcher::WebSearch(query)
        } else {
            let words = fts5_words(&query);
            if words.is_empty() {
                Matcher::Nothing
            } else {
                let none = vec![Vec::new(); words.len()];
                let expression = expression(&words, &none);
                Matcher::Fts5 {
                    tickets: expression.clone(),
                    comments: expression,
                }
            }
        }))
    }
}

/// Adds ` and <the ticket matches the search>` to a query over `tickets t`.
/// `scope` holds what the query's other conditions already restrict it to
/// (see [`Scope`]).
pub fn push_text_condition(
    q: &mut impl SqlBuilder,
    search: &TextSearch,
    comments: Comments,
    scope: Scope<'_>,
) {
    let public_only = match comments {
        Comments::Public => " and c.public = true",
        Comments::All => "",
    };
    match &search.0 {
        Matcher::Nothing => {
            q.push(" and 1 = 0");
        }
        Matcher::Fts5 { tickets, comments } => {
            q.push(" and t.id in (");
            push_ticket_matches(q, tickets, scope);
            q.push(
                " union all select c.ticket_id from comment_search \
                 join comments c on c.id = comment_search.rowid where comment_search match ",
            );
            q.push_bind(comments.clone());
            q.push(public_only);
            q.push(")");
        }
        Matcher::WebSearch(query) => {
            // The ticket's own text is checked on the row the list reads;
            // comments through a correlated `exists`, which PostgreSQL runs
            // as one hashed lookup of the matching comments when they are
            // few and ticket by ticket when they are many.
            q.push(" and (t.search_vector @@ ");
            push_typed_query(q, query);
            q.push(" or exists (select 1 from comments c where c.ticket_id = t.id and c.search_vector @@ ");
            push_typed_query(q, query);
            q.push(public_only);
            q.push("))");
        }
    }
}

/// The ticket side of PostgreSQL's scoped GIN index (migration 0020): the
/// search vector with its scope tokens. The index is on this expression,
/// so queries must write it exactly so.
const POSTGRES_TICKET_SCOPED: &str =
    "(t.search_vector || chamado_search_scope(t.organization_id, t.requester_id, true))";
/// The comment side, with the ticket's organization and whether public.
const POSTGRES_COMMENT_SCOPED: &str =
    "(c.search_vector || chamado_search_scope(c.organization_id, null::bigint, c.public))";

/// The scope tokens PostgreSQL's indexes hold (migration 0020), as a
/// `tsquery` the search is joined to with `&&`: any of the organizations,
/// or the requester (tickets only: comments carry no requester), and the
/// public mark for the customer's comments. `None` when nothing narrows.
fn postgres_scope_query(scope: Scope<'_>, side: Side, comments: Comments) -> Option<String> {
    let token = |kind: char, id: i64| format!("'{SCOPE_MARK}{kind}{id}'");
    let mut parts = Vec::new();
    match scope {
        Scope::Orgs(orgs) if !orgs.is_empty() && orgs.len() <= MAX_SCOPE_ORGS => {
            let any: Vec<String> = orgs.iter().map(|org| token('o', *org)).collect();
            parts.push(format!("({})", any.join(" | ")));
        }
        Scope::Requester(user) if side == Side::Ticket => parts.push(token('u', user)),
        _ => {}
    }
    if side == Side::Comment && comments == Comments::Public {
        parts.push(format!("'{SCOPE_MARK}p'"));
    }
    (!parts.is_empty()).then(|| parts.join(" & "))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Ticket,
    Comment,
}

/// Writes what a count query reads its tickets from, as `t`, with the
/// conditions `push_where` writes (a `where` clause over `tickets t`) and
/// the search's. Usually that is `tickets t where … and <the search>`.
///
/// On PostgreSQL with words to search it is the set of matching tickets'
/// `columns` instead, under the same conditions: the tickets whose own text
/// matches, found through the scoped GIN index (migration 0020), united
/// with the tickets with a matching comment, which PostgreSQL finds through
/// the comments' scoped index when few match and ticket by ticket when
/// many do. A count then reads only the matches of the organizations (or
/// requester) in `scope`, where the list's condition tests every ticket of
/// them and looks up its comments: for a word a few thousand tickets of the
/// benchmark's largest organizations hold, 80 ms instead of a second. A
/// word that most comments hold still costs about a second there, twice
/// the list's condition (BENCHMARKS.md).
pub fn push_counted_tickets<Q: SqlBuilder>(
    q: &mut Q,
    columns: &str,
    search: Option<&TextSearch>,
    comments: Comments,
    scope: Scope<'_>,
    push_where: impl Fn(&mut Q),
) {
    let Some(TextSearch(Matcher::WebSearch(text))) = search else {
        q.push("tickets t");
        push_where(q);
        if let Some(search) = search {
            push_text_condition(q, search, comments, scope);
        }
        return;
    };
    let matches = |q: &mut Q, side: Side| {
        q.push(match side {
            Side::Ticket => POSTGRES_TICKET_SCOPED,
            Side::Comment => POSTGRES_COMMENT_SCOPED,
        });
        q.push(" @@ (");
        push_typed_query(q, text);
        if let Some(tokens) = postgres_scope_query(scope, side, comments) {
            q.push(" && ");
            q.push_bind(tokens);
            q.push("::tsquery");
        }
        q.push(")");
    };
    q.push(format!("(select {columns} from tickets t"));
    push_where(q);
    q.push(" and ");
    matches(q, Side::Ticket);
    q.push(format!(" union select {columns} from tickets t"));
    push_where(q);
    // The plain test first: where PostgreSQL checks a ticket's comments one
    // by one (a word most comments hold), it rejects the others without
    // building their scoped vectors.
    q.push(
        " and exists (select 1 from comments c where c.ticket_id = t.id and c.search_vector @@ ",
    );
    push_typed_query(q, text);
    q.push(" and ");
    matches(q, Side::Comment);
    if comments == Comments::Public {
        q.push(" and c.public = true");
    }
    // Words PostgreSQL ignores (only stop words, "de") make an empty query,
    // which the list's condition matches nowhere but `&&` would drop,
    // leaving the scope alone to match every ticket in it.
    q.push(")) t where numnode(");
    push_typed_query(q, text);
    q.push(") > 0");
}

/// PostgreSQL's `tsquery` of the text typed, folded like the indexed text
/// (`hc_fold`) and read by `websearch_to_tsquery`.
fn push_typed_query(q: &mut impl SqlBuilder, text: &str) {
    q.push("websearch_to_tsquery('portuguese'::regconfig, hc_fold(");
    q.push_bind(text.to_owned());
    q.push("))");
}

/// The ids of the tickets whose own text matches `expression` within the
/// scope: one rowid range of `ticket_search` per organization, or the
/// requester's token added to the expression.
fn push_ticket_matches(q: &mut impl SqlBuilder, expression: &str, scope: Scope<'_>) {
    let ranges: Option<Vec<(i64, i64)>> = match scope {
        Scope::Orgs(orgs) if !orgs.is_empty() && orgs.len() <= MAX_SCOPE_ORGS => {
            orgs.iter().map(|org| org_rowids(*org)).collect()
        }
        _ => None,
    };
    let select = "select rowid & 4294967295 from ticket_search where ticket_search match ";
    match (ranges, scope) {
        (Some(ranges), _) => {
            for (n, (low, high)) in ranges.into_iter().enumerate() {
                if n > 0 {
                    q.push(" union all ");
                }
                q.push(select);
                q.push_bind(expression.to_owned());
                q.push(" and rowid >= ");
                q.push_bind(low);
                q.push(" and rowid < ");
                q.push_bind(high);
            }
        }
        (None, Scope::Requester(user)) => {
            q.push(select);
            q.push_bind(format!(
                "({expression}) AND {}",
                fts5_quoted(&format!("{SCOPE_MARK}u{user}"))
            ));
        }
        (None, _) => {
            q.push(select);
            q.push_bind(expression.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::QueryBuilder;

    fn sql<DB>(text: &str, comments: Comments, scope: Scope<'_>) -> String
    where
        DB: Database,
        QueryBuilder<DB>: SqlBuilder,
    {
        let mut q = QueryBuilder::<DB>::new("select t.id from tickets t where 1 = 1");
        if let Some(search) = TextSearch::parse::<DB>(text) {
            push_text_condition(&mut q, &search, comments, scope);
        }
        q.sql().as_str().to_owned()
    }

    #[test]
    fn blank_text_adds_no_condition_and_symbols_match_nothing() {
        let base = "select t.id from tickets t where 1 = 1";
        assert_eq!(sql::<Sqlite>("  \t ", Comments::All, Scope::Any), base);
        assert_eq!(sql::<Postgres>("", Comments::All, Scope::Any), base);
        assert_eq!(
            sql::<Sqlite>("\"*( -", Comments::Public, Scope::Any),
            format!("{base} and 1 = 0")
        );
        assert_eq!(
            sql::<Postgres>("\"*( -", Comments::Public, Scope::Any),
            format!("{base} and 1 = 0")
        );
    }

    #[test]
    fn only_the_portal_leaves_internal_notes_out() {
        for public in [
            sql::<Sqlite>("boleto", Comments::Public, Scope::Any),
            sql::<Postgres>("boleto", Comments::Public, Scope::Any),
        ] {
            assert!(public.contains("c.public = true"), "{public}");
        }
        for all in [
            sql::<Sqlite>("boleto", Comments::All, Scope::Any),
            sql::<Postgres>("boleto", Comments::All, Scope::Any),
        ] {
            assert!(!all.contains("public"), "{all}");
        }
        assert!(
            sql::<Sqlite>("boleto", Comments::All, Scope::Any).contains("comment_search match")
        );
        assert!(
            sql::<Postgres>("boleto", Comments::All, Scope::Any).contains("websearch_to_tsquery")
        );
    }

    #[test]
    fn only_postgresql_searches_are_planned_for_their_words() {
        let pg = TextSearch::parse::<Postgres>("boleto");
        assert!(TextSearch::plans_per_value(pg.as_ref()));
        let sqlite = TextSearch::parse::<Sqlite>("boleto");
        assert!(!TextSearch::plans_per_value(sqlite.as_ref()));
        assert!(!TextSearch::plans_per_value(None));
        let nothing = TextSearch::parse::<Postgres>("*( -");
        assert!(!TextSearch::plans_per_value(nothing.as_ref()));
    }

    #[test]
    fn organizations_are_rowid_ranges_and_too_many_are_no_scope() {
        let one = sql::<Sqlite>("boleto", Comments::Public, Scope::Orgs(&[5001]));
        assert_eq!(one.matches("rowid >= ").count(), 1, "{one}");
        let two = sql::<Sqlite>("boleto", Comments::Public, Scope::Orgs(&[1, 5001]));
        assert_eq!(two.matches("rowid >= ").count(), 2, "{two}");
        let many: Vec<i64> = (1..=100).collect();
        let all = sql::<Sqlite>("boleto", Comments::Public, Scope::Orgs(&many));
        assert!(!all.contains("rowid >= "), "{all}");
        assert_eq!(all, sql::<Sqlite>("boleto", Comments::Public, Scope::Any));
        assert_eq!(org_rowids(0), Some((0, 1 << 32)));
        assert_eq!(org_rowids(5001), Some((5001 << 32, 5002 << 32)));
        assert_eq!(org_rowids(i64::MAX), None);
    }

    fn counted<DB>(text: &str, comments: Comments, scope: Scope<'_>) -> String
    where
        DB: Database,
        QueryBuilder<DB>: SqlBuilder,
    {
        let mut q = QueryBuilder::<DB>::new("select count(*) from ");
        let search = TextSearch::parse::<DB>(text);
        push_counted_tickets(&mut q, "t.id", search.as_ref(), comments, scope, |q| {
            q.push(" where t.ticket_type = 'incident'");
        });
        q.sql().as_str().to_owned()
    }

    #[test]
    fn postgresql_counts_read_the_indexes_as_migration_0020_made_them() {
        let migration = include_str!("../../migrations/postgres/0020_search_by_organization.sql");
        assert!(
            migration.contains(&POSTGRES_TICKET_SCOPED.replace("t.", "")),
            "{POSTGRES_TICKET_SCOPED}"
        );
        assert!(
            migration.contains(&POSTGRES_COMMENT_SCOPED.replace("c.", "")),
            "{POSTGRES_COMMENT_SCOPED}"
        );
        let sql = counted::<Postgres>("boleto", Comments::Public, Scope::Orgs(&[1, 2]));
        assert!(sql.starts_with("select count(*) from (select t.id from tickets t where t.ticket_type = 'incident' and (t.search_vector ||"), "{sql}");
        assert!(
            sql.contains(POSTGRES_TICKET_SCOPED) && sql.contains(POSTGRES_COMMENT_SCOPED),
            "{sql}"
        );
        assert_eq!(
            sql.matches("t.ticket_type = 'incident'").count(),
            2,
            "{sql}"
        );
        assert!(
            sql.contains(" and c.public = true)) t where numnode("),
            "{sql}"
        );
        let agent = counted::<Postgres>("boleto", Comments::All, Scope::Any);
        assert!(
            !agent.contains("c.public = true") && !agent.contains("::tsquery"),
            "{agent}"
        );
    }

    #[test]
    fn scope_tokens_narrow_only_what_each_index_holds() {
        let m = SCOPE_MARK;
        assert_eq!(
            postgres_scope_query(Scope::Orgs(&[1, 5001]), Side::Ticket, Comments::Public),
            Some(format!("('{m}o1' | '{m}o5001')"))
        );
        assert_eq!(
            postgres_scope_query(Scope::Orgs(&[1]), Side::Comment, Comments::Public),
            Some(format!("('{m}o1') & '{m}p'"))
        );
        assert_eq!(
            postgres_scope_query(Scope::Requester(7), Side::Ticket, Comments::Public),
            Some(format!("'{m}u7'"))
        );
        // Comments carry no requester: only the public mark narrows them.
        assert_eq!(
            postgres_scope_query(Scope::Requester(7), Side::Comment, Comments::Public),
            Some(format!("'{m}p'"))
        );
        assert_eq!(
            postgres_scope_query(Scope::Requester(7), Side::Comment, Comments::All),
            None
        );
        let many: Vec<i64> = (1..=100).collect();
        assert_eq!(
            postgres_scope_query(Scope::Orgs(&many), Side::Ticket, Comments::All),
            None
        );
    }

    #[test]
    fn sqlite_and_postgresql_without_words_count_the_list_condition() {
        assert_eq!(
            counted::<Sqlite>("boleto", Comments::Public, Scope::Any),
            format!(
                "select count(*) from tickets t where t.ticket_type = 'incident'{}",
                sql::<Sqlite>("boleto", Comments::Public, Scope::Any)
                    .trim_start_matches("select t.id from tickets t where 1 = 1")
            )
        );
        assert_eq!(
            counted::<Postgres>("*( -", Comments::Public, Scope::Any),
            "select count(*) from tickets t where t.ticket_type = 'incident' and 1 = 0"
        );
    }

    #[test]
    fn words_become_exact_terms_or_stay_prefixes() {
        let words = vec!["bolet".to_owned(), "vencido".to_owned(), "b".to_owned()];
        let many: Vec<String> = (0..=MAX_TERMS).map(|n| format!("b{n}")).collect();
        let terms = vec![
            vec!["boleto".to_owned(), "boletos".to_owned()],
            vec!["vencido".to_owned()],
            many,
        ];
        assert_eq!(
            expression(&words, &terms),
            "(\"boleto\" OR \"boletos\") AND \"vencido\" AND \"b\"*"
        );
        // No term found: the prefix, which then matches nothing cheaply.
        assert_eq!(expression(&words[..1], &[Vec::new()]), "\"bolet\"*");
        assert_eq!(folded("cobrança"), "cobranca");
        assert_eq!(folded("não"), "nao");
        // A typed word never holds the scope mark, so it cannot reach a
        // requester's token.
        assert_eq!(fts5_words("\u{e000}u1"), vec!["u1".to_owned()]);
    }
}
