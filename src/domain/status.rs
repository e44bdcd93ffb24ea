//! Ticket statuses, their categories, ticket types and the interface languages, each with
//! the stable key stored in the database and sent over the API, and the labels the customer
//! sees (DESIGN §1). Pure data: no I/O.
//!
//! Labels and descriptions live here, not only in the locale files, because the pt-BR wording
//! is the seed's own text: the portal must show it verbatim, and jobs and the API need it
//! without loading templates.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A key that names no known value, e.g. `"closed"` given as a ticket status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown key {0:?}")]
pub struct UnknownKey(pub String);

/// Interface language. Portuguese first: the customers are Brazilian and the seed is pt-BR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    PtBr,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::PtBr, Lang::En];

    /// BCP 47 tag, as used in `lang` attributes and the locale folders.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::PtBr => "pt-BR",
            Lang::En => "en",
        }
    }

    /// Reads a language tag by its primary subtag only, so `pt`, `pt_BR` and `PT-br` all give
    /// Portuguese and any English variant gives English: we ship one variant of each, and a
    /// browser asking for `pt-PT` or `en-GB` is better served by it than by the default.
    #[must_use]
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?;
        if primary.eq_ignore_ascii_case("pt") {
            Some(Lang::PtBr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = UnknownKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::parse(s).ok_or_else(|| UnknownKey(s.to_owned()))
    }
}

/// Where a ticket is in its lifecycle. The derived order is the lifecycle order, so sorting
/// by status lists new work first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Sent,
    InProgress,
    WithTech,
    AwaitingReply,
    Solved,
    AbandonedTriage,
}

impl TicketStatus {
    /// Every status, in lifecycle order (the order of the portal's status filter).
    pub const ALL: [TicketStatus; 6] = [
        TicketStatus::Sent,
        TicketStatus::InProgress,
        TicketStatus::WithTech,
        TicketStatus::AwaitingReply,
        TicketStatus::Solved,
        TicketStatus::AbandonedTriage,
    ];

    /// Stable key: stored in the database, used in URLs and the API. Never rename one.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            TicketStatus::Sent => "sent",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::WithTech => "with_tech",
            TicketStatus::AwaitingReply => "awaiting_reply",
            TicketStatus::Solved => "solved",
            TicketStatus::AbandonedTriage => "abandoned_triage",
        }
    }

    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The name the customer sees; the pt-BR labels are the seed's, verbatim.
    #[must_use]
    pub fn label(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::PtBr, TicketStatus::Sent) => "Enviado",
            (Lang::PtBr, TicketStatus::InProgress) => "Em Tratativa",
            (Lang::PtBr, TicketStatus::WithTech) => "Em Tratativa com o Time de Tech",
            (Lang::PtBr, TicketStatus::AwaitingReply) => "Aguardando Sua Resposta",
            (Lang::PtBr, TicketStatus::Solved) => "Solucionado",
            (Lang::PtBr, TicketStatus::AbandonedTriage) => "Abandono na Triagem",
            (Lang::En, TicketStatus::Sent) => "Sent",
            (Lang::En, TicketStatus::InProgress) => "In progress",
            (Lang::En, TicketStatus::WithTech) => "With the tech team",
            (Lang::En, TicketStatus::AwaitingReply) => "Awaiting your reply",
            (Lang::En, TicketStatus::Solved) => "Solved",
            (Lang::En, TicketStatus::AbandonedTriage) => "Abandoned in triage",
        }
    }

    /// What the status means for the customer, as the seed explains it.
    #[must_use]
    pub fn description(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::PtBr, TicketStatus::Sent) => {
                "Este status indica que seu ticket foi aberto com sucesso."
            }
            (Lang::PtBr, TicketStatus::InProgress) => {
                "Nosso time está verificando sua solicitação."
            }
            (Lang::PtBr, TicketStatus::WithTech) => {
                "Sua solicitação foi encaminhada para a equipe de tecnologia para resolução."
            }
            (Lang::PtBr, TicketStatus::AwaitingReply) => {
                "Estamos aguardando um retorno seu para dar seguimento à solução ou para validar a \
                 solução apresentada."
            }
            (Lang::PtBr, TicketStatus::Solved) => {
                "Seu ticket foi finalizado com sucesso, e a solicitação foi resolvida."
            }
            (Lang::PtBr, TicketStatus::AbandonedTriage) => {
                "Quando não houver resposta das perguntas iniciais obrigatórias."
            }
            (Lang::En, TicketStatus::Sent) => {
                "This status means your ticket was opened successfully."
            }
            (Lang::En, TicketStatus::InProgress) => "Our team is looking into your request.",
            (Lang::En, TicketStatus::WithTech) => {
                "Your request was forwarded to the technology team for resolution."
            }
            (Lang::En, TicketStatus::AwaitingReply) => {
                "We are waiting for your reply to move the solution forward or to validate the \
                 solution we presented."
            }
            (Lang::En, TicketStatus::Solved) => {
                "Your ticket was closed successfully and the request was resolved."
            }
            (Lang::En, TicketStatus::AbandonedTriage) => {
                "When the mandatory initial questions are not answered."
            }
        }
    }

    /// The Zendesk-style category, so reports and API clients that know only those five
    /// buckets can still group our statuses.
    #[must_use]
    pub fn category(self) -> StatusCategory {
        match self {
            TicketStatus::Sent => StatusCategory::New,
            TicketStatus::InProgress | TicketStatus::WithTech => StatusCategory::Open,
            TicketStatus::AwaitingReply => StatusCategory::Pending,
            TicketStatus::Solved => StatusCategory::Solved,
            TicketStatus::AbandonedTriage => StatusCategory::Closed,
        }
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for TicketStatus {
    type Err = UnknownKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_key(s).ok_or_else(|| UnknownKey(s.to_owned()))
    }
}

/// Coarse grouping of statuses, in the five buckets help desks share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCategory {
    New,
    Open,
    Pending,
    Solved,
    Closed,
}

impl StatusCategory {
    pub const ALL: [StatusCategory; 5] = [
        StatusCategory::New,
        StatusCategory::Open,
        StatusCategory::Pending,
        StatusCategory::Solved,
        StatusCategory::Closed,
    ];

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            StatusCategory::New => "new",
            StatusCategory::Open => "open",
            StatusCategory::Pending => "pending",
            StatusCategory::Solved => "solved",
            StatusCategory::Closed => "closed",
        }
    }

    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == key)
    }
}

impl fmt::Display for StatusCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The two kinds of ticket the seed names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketType {
    Incident,
    Support,
}

impl TicketType {
    pub const ALL: [TicketType; 2] = [TicketType::Incident, TicketType::Support];

    /// Stable key: stored in the database, used in URLs and the API. Never rename one.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            TicketType::Incident => "incident",
            TicketType::Support => "support",
        }
    }

    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.key() == key)
    }

    #[must_use]
    pub fn label(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::PtBr, TicketType::Incident) => "Incidente",
            (Lang::PtBr, TicketType::Support) => "Suporte",
            (Lang::En, TicketType::Incident) => "Incident",
            (Lang::En, TicketType::Support) => "Support",
        }
    }

    /// Helps the customer pick a type during triage; the pt-BR text is the seed's.
    #[must_use]
    pub fn description(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::PtBr, TicketType::Incident) => {
                "Tratativa de Incidente na plataforma junto ao time de tecnologia"
            }
            (Lang::PtBr, TicketType::Support) => "Dúvidas de utilização da plataforma",
            (Lang::En, TicketType::Incident) => {
                "Handling of an incident on the platform together with the technology team"
            }
            (Lang::En, TicketType::Support) => "Questions about using the platform",
        }
    }
}

impl fmt::Display for TicketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for TicketType {
    type Err = UnknownKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_key(s).ok_or_else(|| UnknownKey(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    fn from_serde<'a, T: Deserialize<'a>>(key: &'a str) -> Result<T, DeError> {
        let de: StrDeserializer<'a, DeError> = key.into_deserializer();
        T::deserialize(de)
    }

    #[test]
    fn every_status_key_round_trips_through_from_key_from_str_and_serde() {
        for status in TicketStatus::ALL {
            let key = status.key();
            assert_eq!(TicketStatus::from_key(key), Some(status));
            assert_eq!(key.parse::<TicketStatus>(), Ok(status));
            assert_eq!(status.to_string(), key);
            assert_eq!(from_serde::<TicketStatus>(key).ok(), Some(status));
        }
    }

    #[test]
    fn status_keys_are_the_documented_ones_in_lifecycle_order() {
        let keys: Vec<&str> = TicketStatus::ALL.iter().map(|s| s.key()).collect();
        assert_eq!(
            keys,
            [
                "sent",
                "in_progress",
                "with_tech",
                "awaiting_reply",
                "solved",
                "abandoned_triage"
            ]
        );
        let mut sorted = TicketStatus::ALL;
        sorted.sort();
        assert_eq!(sorted, TicketStatus::ALL);
    }

    #[test]
    fn pt_br_status_labels_are_the_seed_text_verbatim() {
        let labels: Vec<&str> = TicketStatus::ALL
            .iter()
            .map(|s| s.label(Lang::PtBr))
            .collect();
        assert_eq!(
            labels,
            [
                "Enviado",
                "Em Tratativa",
                "Em Tratativa com o Time de Tech",
                "Aguardando Sua Resposta",
                "Solucionado",
                "Abandono na Triagem",
            ]
        );
        assert_eq!(
            TicketStatus::Sent.description(Lang::PtBr),
            "Este status indica que seu ticket foi aberto com sucesso."
        );
        assert_eq!(
            TicketStatus::AwaitingReply.description(Lang::PtBr),
            "Estamos aguardando um retorno seu para dar seguimento à solução ou para validar a \
             solução apresentada."
        );
    }

    #[test]
    fn english_status_labels_are_distinct_and_non_empty() {
        let labels: Vec<&str> = TicketStatus::ALL
            .iter()
            .map(|s| s.label(Lang::En))
            .collect();
        assert_eq!(
            labels,
            [
                "Sent",
                "In progress",
                "With the tech team",
                "Awaiting your reply",
                "Solved",
                "Abandoned in triage",
            ]
        );
        for lang in Lang::ALL {
            for status in TicketStatus::ALL {
                assert!(!status.description(lang).is_empty());
            }
        }
    }

    #[test]
    fn unknown_status_key_is_refused_with_the_key_in_the_error() {
        assert_eq!(TicketStatus::from_key("Sent"), None);
        assert_eq!(TicketStatus::from_key(""), None);
        assert_eq!(
            "closed".parse::<TicketStatus>(),
            Err(UnknownKey("closed".into()))
        );
        assert!(from_serde::<TicketStatus>("inProgress").is_err());
        assert_eq!(
            UnknownKey("closed".into()).to_string(),
            "unknown key \"closed\""
        );
    }

    #[test]
    fn statuses_map_to_their_categories() {
        use StatusCategory as C;
        let categories: Vec<C> = TicketStatus::ALL.iter().map(|s| s.category()).collect();
        assert_eq!(
            categories,
            [C::New, C::Open, C::Open, C::Pending, C::Solved, C::Closed]
        );
        for category in StatusCategory::ALL {
            assert_eq!(StatusCategory::from_key(category.key()), Some(category));
            assert_eq!(
                from_serde::<StatusCategory>(category.key()).ok(),
                Some(category)
            );
        }
    }

    #[test]
    fn ticket_types_round_trip_and_use_the_seed_labels() {
        for ty in TicketType::ALL {
            assert_eq!(TicketType::from_key(ty.key()), Some(ty));
            assert_eq!(ty.to_string().parse::<TicketType>(), Ok(ty));
            assert_eq!(from_serde::<TicketType>(ty.key()).ok(), Some(ty));
        }
        assert_eq!(TicketType::Incident.key(), "incident");
        assert_eq!(TicketType::Support.key(), "support");
        assert_eq!(TicketType::Incident.label(Lang::PtBr), "Incidente");
        assert_eq!(TicketType::Support.label(Lang::PtBr), "Suporte");
        assert_eq!(TicketType::Incident.label(Lang::En), "Incident");
        assert_eq!(TicketType::Support.label(Lang::En), "Support");
        assert_eq!(
            TicketType::Support.description(Lang::PtBr),
            "Dúvidas de utilização da plataforma"
        );
        assert_eq!("bug".parse::<TicketType>(), Err(UnknownKey("bug".into())));
    }

    #[test]
    fn lang_parses_by_primary_subtag_in_any_case() {
        for tag in ["pt-BR", "pt-br", "pt", "pt_BR", "PT", "pt-PT", " pt-BR "] {
            assert_eq!(Lang::parse(tag), Some(Lang::PtBr), "{tag}");
        }
        for tag in ["en", "en-US", "EN-gb", "en_US"] {
            assert_eq!(Lang::parse(tag), Some(Lang::En), "{tag}");
        }
        for tag in ["", "es", "fr-FR", "ptx", "-pt"] {
            assert_eq!(Lang::parse(tag), None, "{tag}");
        }
        assert_eq!(Lang::default(), Lang::PtBr);
        assert_eq!(Lang::PtBr.code(), "pt-BR");
        assert_eq!(Lang::En.code(), "en");
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
        }
    }
}
