//! Invented demo data: three organizations, customers (one in two of them),
//! agents in *Suporte* and *Tech*, an admin, and about 200 tickets in every
//! status with plausible histories over several weeks.
//!
//! The ticket generator is deterministic (seeded) and streams batches, so the
//! same code can fill a database with a million tickets for benchmarks.

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};

use crate::{
    AppState,
    domain::{ActorKind, Role, TicketId, TicketStatus, TicketType},
    service::{
        accounts::{self, AccountError, UserInput},
        attachments::{self, AttachmentError, Upload},
    },
    store::{
        self, StoreError, Ts,
        demo::{
            GenAttachment, GenComment, GenEvent, GenEventData, GenTicket, GenTicketEvent, MaxIds,
        },
    },
};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "chamado-demo";

/// A small, fast, seedable generator (SplitMix64): demo and benchmark data
/// must be the same on every run, and need no cryptographic quality.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `low..high` (`low < high`).
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high.saturating_sub(low)).unwrap_or(1).max(1);
        low + i64::try_from(self.below(span)).unwrap_or(0)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let len = u64::try_from(items.len()).unwrap_or(1);
        &items[usize::try_from(self.below(len)).unwrap_or(0)]
    }

    /// One of the given texts.
    pub fn pick_text(&mut self, items: &[&'static str]) -> &'static str {
        self.pick::<&'static str>(items)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Who the generated tickets are about.
#[derive(Clone, Debug)]
pub struct Population {
    /// Each customer with the organizations they belong to.
    pub customers: Vec<(i64, Vec<i64>)>,
    pub support_agents: Vec<i64>,
    pub tech_agents: Vec<i64>,
    pub support_group: i64,
    pub tech_group: i64,
}

/// (subject, description, `TicketType`) of invented requests to a SaaS platform.
const REQUESTS: &[(&str, &str, TicketType)] = &[
    (
        "Erro ao emitir nota fiscal de serviço",
        "Ao clicar em **Emitir NFS-e** aparece a mensagem \"Falha na comunicação com a prefeitura\". Já tentei três vezes desde as 9h.",
        TicketType::Incident,
    ),
    (
        "Relatório de vendas não carrega",
        "O relatório mensal de vendas fica carregando e não abre. Outros relatórios funcionam normalmente.",
        TicketType::Incident,
    ),
    (
        "Como cadastrar um novo usuário?",
        "Contratamos uma pessoa para o financeiro e preciso dar acesso a ela. Onde faço o cadastro?",
        TicketType::Support,
    ),
    (
        "Integração bancária parou de sincronizar",
        "Os extratos do banco não entram desde ontem. A última sincronização mostrada é de anteontem às 18h.",
        TicketType::Incident,
    ),
    (
        "Dúvida sobre permissões de acesso",
        "Quero que o time comercial veja os pedidos, mas não os valores de custo. É possível configurar isso?",
        TicketType::Support,
    ),
    (
        "Boleto gerado com valor errado",
        "O boleto do pedido 4521 saiu com R$ 1.250,00, mas o valor correto é R$ 1.520,00.",
        TicketType::Incident,
    ),
    (
        "Lentidão no painel financeiro",
        "Desde a manhã o painel financeiro leva mais de um minuto para abrir.",
        TicketType::Incident,
    ),
    (
        "Como exportar a lista de clientes para planilha?",
        "Preciso da lista de clientes com CNPJ e e-mail em uma planilha para a contabilidade.",
        TicketType::Support,
    ),
    (
        "Não recebo o e-mail de redefinição de senha",
        "Pedi a redefinição de senha várias vezes e o e-mail não chega, nem no spam.",
        TicketType::Incident,
    ),
    (
        "Importação de produtos falha com arquivo CSV",
        "Ao importar o arquivo de produtos aparece \"linha 57: coluna preço inválida\", mas a linha parece correta.",
        TicketType::Incident,
    ),
    (
        "Como alterar o plano de pagamento?",
        "Gostaríamos de mudar do plano mensal para o anual. Como fazemos?",
        TicketType::Support,
    ),
    (
        "Dúvida sobre o fechamento de caixa",
        "Qual a diferença entre fechar o caixa do dia e conciliar o caixa?",
        TicketType::Support,
    ),
    (
        "Aplicativo fecha ao abrir pedidos",
        "No celular, o aplicativo fecha sozinho quando abro a tela de pedidos. Android 14.",
        TicketType::Incident,
    ),
    (
        "Configurar alíquota de ISS por município",
        "Atendemos clientes em duas cidades com alíquotas diferentes. Como configuro?",
        TicketType::Support,
    ),
    (
        "Estoque ficou negativo após devolução",
        "Registramos uma devolução e o estoque do item passou a mostrar -3 unidades.",
        TicketType::Incident,
    ),
    (
        "Como emitir segunda via de boleto?",
        "Um cliente perdeu o boleto vencido. Consigo gerar uma segunda via com juros?",
        TicketType::Support,
    ),
    (
        "Webhook de pedidos retornando erro 500",
        "Nosso endpoint recebe as chamadas, mas a plataforma mostra erro 500 no log de webhooks.",
        TicketType::Incident,
    ),
    (
        "Treinamento para novos colaboradores",
        "Vocês oferecem algum material ou treinamento para quem está começando a usar a plataforma?",
        TicketType::Support,
    ),
    (
        "Notas duplicadas no relatório fiscal",
        "O relatório fiscal de outubro mostra as mesmas notas duas vezes.",
        TicketType::Incident,
    ),
    (
        "Como personalizar o modelo de orçamento?",
        "Quero incluir o logotipo da empresa e as condições de pagamento no orçamento em PDF.",
        TicketType::Support,
    ),
    (
        "Falha no login com autenticação em dois fatores",
        "O código de verificação chega, mas a plataforma diz que é inválido.",
        TicketType::Incident,
    ),
    (
        "Dúvida sobre limites de usuários do plano",
        "Quantos usuários podemos ter no plano Profissional?",
        TicketType::Support,
    ),
    (
        "Cobrança duplicada na fatura",
        "A fatura deste mês veio com a mensalidade cobrada duas vezes.",
        TicketType::Incident,
    ),
    (
        "Como configurar a régua de cobrança?",
        "Queremos enviar lembretes automáticos 3 dias antes e 1 dia depois do vencimento.",
        TicketType::Support,
    ),
];

const AGENT_QUESTIONS: &[&str] = &[
    "Olá! Pode nos enviar um print da tela com a mensagem de erro e o horário aproximado?",
    "Conseguimos reproduzir parcialmente. Pode confirmar se o problema acontece em outro navegador?",
    "Aplicamos uma correção. Pode verificar se agora está funcionando como esperado?",
    "Para seguir, precisamos do número do pedido e do CNPJ do cliente envolvido.",
];

const CUSTOMER_REPLIES: &[&str] = &[
    "Segue em anexo o print. Aconteceu por volta das 10h30.",
    "Testei no Firefox e no Chrome, o erro é o mesmo.",
    "O pedido é o 7788 e o CNPJ é 12.345.678/0001-90.",
    "Ainda não funcionou, continua aparecendo a mesma mensagem.",
];

const SOLUTIONS: &[&str] = &[
    "Corrigimos a configuração da sua conta e tudo voltou a funcionar. Qualquer dúvida, estamos à disposição!",
    "O time de tecnologia publicou a correção. Obrigado pela paciência!",
    "Segue o passo a passo: Configurações → Usuários → Novo usuário. Qualquer dúvida, é só responder.",
];

const TECH_NOTES: &[&str] = &[
    "Escalado para Tech: erro reproduzido em produção, ver logs do serviço fiscal.",
    "Escalado para Tech: sincronização bancária com timeout no provedor.",
    "Escalado para Tech: possível regressão na versão publicada ontem.",
];

/// Organizations drawn by weight, each with its members: benchmark data
/// sets skew ticket counts so that a few organizations hold most tickets.
#[derive(Clone, Debug)]
pub struct OrgWeights {
    /// (organization, its customers); every organization has at least one.
    orgs: Vec<(i64, Vec<i64>)>,
    /// Running totals of the weights, one per organization.
    cumulative: Vec<u64>,
}

impl OrgWeights {
    /// `orgs` with their weights; organizations without members or weight
    /// are left out.
    pub fn new(orgs: Vec<(i64, Vec<i64>, u64)>) -> Self {
        let mut total = 0u64;
        let mut kept = Vec::with_capacity(orgs.len());
        let mut cumulative = Vec::with_capacity(orgs.len());
        for (org, members, weight) in orgs {
            if members.is_empty() || weight == 0 {
                continue;
            }
            total += weight;
            kept.push((org, members));
            cumulative.push(total);
        }
        Self {
            orgs: kept,
            cumulative,
        }
    }

    fn pick(&self, rng: &mut Rng) -> Option<(i64, i64)> {
        let total = *self.cumulative.last()?;
        let r = rng.below(total);
        let index = self.cumulative.partition_point(|&c| c <= r);
        let (org, members) = self.orgs.get(index)?;
        Some((*org, *rng.pick(members)))
    }
}

/// (file name, content type, contents) of generated attachments.
const DEMO_FILES: [(&str, &str, &str); 2] = [
    (
        "erro-tela.log",
        "text/plain",
        "10:31:07 ERRO integração: tempo de resposta excedido (30 s)\n10:31:37 ERRO nova tentativa falhou\n",
    ),
    (
        "pedidos.csv",
        "text/csv",
        "pedido;valor;status\n4521;1520,00;aberto\n4522;980,50;pago\n",
    ),
];

/// Streams generated tickets in batches.
#[derive(Debug)]
pub struct TicketGenerator {
    rng: Rng,
    population: Population,
    /// When set, the organization is drawn first, then a member of it.
    org_weights: Option<OrgWeights>,
    /// Public comments added to tickets whose story has fewer.
    min_comments: usize,
    /// Percentage of tickets that carry files (one or two).
    attachment_percent: u64,
    now: Timestamp,
    /// Tickets are created within this span before `now`.
    span: SignedDuration,
    next_ticket: i64,
    next_comment: i64,
    next_ticket_event: i64,
}

impl TicketGenerator {
    pub fn new(
        seed: u64,
        population: Population,
        now: Timestamp,
        span: SignedDuration,
        after_ids: MaxIds,
    ) -> Self {
        Self {
            rng: Rng::new(seed),
            population,
            org_weights: None,
            min_comments: 0,
            attachment_percent: 0,
            now,
            span,
            next_ticket: after_ids.ticket + 1,
            next_comment: after_ids.comment + 1,
            next_ticket_event: after_ids.ticket_event + 1,
        }
    }

    /// Draws each ticket's organization by weight, then its requester among
    /// the organization's members.
    #[must_use]
    pub fn with_org_weights(mut self, weights: OrgWeights) -> Self {
        self.org_weights = Some(weights);
        self
    }

    /// Gives every ticket at least `n` comments (public replies spread
    /// over its life).
    #[must_use]
    pub fn with_min_comments(mut self, n: usize) -> Self {
        self.min_comments = n;
        self
    }

    /// Gives `percent` of the tickets one or two files (their contents are
    /// stored by whoever writes the batch: `GenAttachment::storage_key`).
    #[must_use]
    pub fn with_attachments(mut self, percent: u64) -> Self {
        self.attachment_percent = percent.min(100);
        self
    }

    /// The next `n` tickets.
    pub fn batch(&mut self, n: usize) -> Vec<GenTicket> {
        (0..n).map(|_| self.ticket()).collect()
    }

    fn final_status(&mut self) -> TicketStatus {
        // Roughly what a help desk holds: mostly solved, some in each open state.
        match self.rng.below(100) {
            0..=9 => TicketStatus::Sent,
            10..=27 => TicketStatus::InProgress,
            28..=37 => TicketStatus::WithTech,
            38..=51 => TicketStatus::AwaitingReply,
            52..=93 => TicketStatus::Solved,
            _ => TicketStatus::AbandonedTriage,
        }
    }

    /// The statuses a ticket passes through to reach `last`, with who moved it.
    fn path(&mut self, last: TicketStatus) -> Vec<(TicketStatus, &'static str)> {
        use TicketStatus::{AbandonedTriage, AwaitingReply, InProgress, Sent, Solved, WithTech};
        if last == AbandonedTriage {
            return vec![(AbandonedTriage, "system")];
        }
        let mut path = vec![(Sent, "customer")];
        if last == Sent {
            return path;
        }
        path.push((InProgress, "agent"));
        let escalate = last == WithTech || self.rng.chance(30);
        if escalate {
            path.push((WithTech, "agent"));
        }
        if last == WithTech {
            return path;
        }
        if last == InProgress {
            if escalate {
                path.push((InProgress, "agent"));
            }
            return path;
        }
        path.push((AwaitingReply, "agent"));
        if self.rng.chance(35) {
            path.push((InProgress, "customer"));
            path.push((AwaitingReply, "agent"));
        }
        if last == Solved {
            let actor = match self.rng.below(10) {
                0..=5 => "agent",
                6..=8 => "customer",
                _ => "system",
            };
            path.push((Solved, actor));
        }
        path
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one ticket's whole story reads best in one place"
    )]
    fn ticket(&mut self) -> GenTicket {
        let id = self.next_ticket;
        self.next_ticket += 1;
        let rng = &mut self.rng;
        let (requester, organization_id) =
            if let Some((org, member)) = self.org_weights.as_ref().and_then(|w| w.pick(rng)) {
                (member, Some(org))
            } else {
                let (requester, orgs) = rng.pick(&self.population.customers).clone();
                let organization_id = if orgs.is_empty() {
                    None
                } else {
                    Some(*rng.pick(&orgs))
                };
                (requester, organization_id)
            };
        let (subject, description, ticket_type) = *rng.pick(REQUESTS);
        let age = rng.range(3_600, self.span.as_secs().max(3_601));
        let last = self.final_status();
        // A ticket still waiting for the customer is recent (under two days,
        // well inside the auto-solve window), so the automations do not close
        // the demo's waiting tickets the moment the server starts.
        let age = if last == TicketStatus::AwaitingReply {
            3_600 + age % (2 * 86_400 - 3_600)
        } else {
            age
        };
        let created = self.now - SignedDuration::from_secs(age);
        let path = self.path(last);
        let rng = &mut self.rng;

        // Spread the events over the ticket's life, leaving room before now.
        let room = self.now.duration_since(created).as_secs().max(60);
        let step = (room * 8 / 10) / i64::try_from(path.len()).unwrap_or(1).max(1);
        let support_agent = *rng.pick(&self.population.support_agents);
        let tech_agent = *rng.pick(&self.population.tech_agents);
        let mut at = created;
        let mut events = Vec::with_capacity(path.len());
        let mut comments = Vec::new();
        let mut from: Option<TicketStatus> = None;
        let mut solved_at = None;
        let mut escalated = false;
        for (index, (status, actor)) in path.iter().copied().enumerate() {
            if index > 0 {
                at +=
                    SignedDuration::from_secs(rng.range(step / 3, step.max(step / 3 + 2)).max(60));
            } else if status == TicketStatus::AbandonedTriage {
                at += SignedDuration::from_mins(30);
            }
            let actor_id = match actor {
                "customer" => Some(requester),
                "agent" if status == TicketStatus::WithTech || escalated => {
                    Some(if rng.chance(50) {
                        tech_agent
                    } else {
                        support_agent
                    })
                }
                "agent" => Some(support_agent),
                _ => None,
            };
            events.push(GenEvent {
                from: from.map(TicketStatus::key),
                to: status.key(),
                at: Ts(at),
                actor_kind: actor,
                actor_id,
            });
            let mut comment = |author: Option<i64>, body: &str, public: bool, rng: &mut Rng| {
                comments.push(GenComment {
                    id: self.next_comment,
                    author_id: author,
                    body: body.to_owned(),
                    public,
                    created_at: Ts(at + SignedDuration::from_secs(rng.range(1, 50))),
                });
                self.next_comment += 1;
            };
            match (status, actor) {
                (TicketStatus::WithTech, _) => {
                    escalated = true;
                    comment(actor_id, rng.pick_text(TECH_NOTES), false, rng);
                }
                (TicketStatus::AwaitingReply, _) => {
                    comment(actor_id, rng.pick_text(AGENT_QUESTIONS), true, rng);
                }
                (TicketStatus::InProgress, "customer") => {
                    comment(Some(requester), rng.pick_text(CUSTOMER_REPLIES), true, rng);
                }
                (TicketStatus::Solved, "agent") => {
                    comment(actor_id, rng.pick_text(SOLUTIONS), true, rng);
                }
                (TicketStatus::Solved, "customer") => comment(
                    Some(requester),
                    "Funcionou, obrigado! Pode encerrar.",
                    true,
                    rng,
                ),
                _ => {}
            }
            if status == TicketStatus::Solved {
                solved_at = Some(Ts(at));
            }
            from = Some(status);
        }
        let worked = !matches!(last, TicketStatus::Sent | TicketStatus::AbandonedTriage);
        let attachments = self.attachments(requester, Ts(created));
        let missing = self.min_comments.saturating_sub(comments.len());
        if missing > 0 && last != TicketStatus::AbandonedTriage {
            let rng = &mut self.rng;
            let last_at = events.last().map_or(created, |e| e.at.0);
            let life = last_at.duration_since(created).as_secs().max(60);
            let slots = i64::try_from(missing).unwrap_or(1) + 1;
            for index in 1..slots {
                let at = created + SignedDuration::from_secs(life * index / slots + 1);
                let from_support = worked && index % 2 == 0;
                let (author, body) = if from_support {
                    (support_agent, rng.pick_text(AGENT_QUESTIONS))
                } else {
                    (requester, rng.pick_text(CUSTOMER_REPLIES))
                };
                comments.push(GenComment {
                    id: self.next_comment,
                    author_id: Some(author),
                    body: body.to_owned(),
                    public: true,
                    created_at: Ts(at),
                });
                self.next_comment += 1;
            }
            comments.sort_by_key(|c| c.created_at);
        }
        let updated_at = comments
            .iter()
            .map(|c| c.created_at)
            .chain(events.last().map(|e| e.at))
            .max()
            .unwrap_or(Ts(created));
        let ticket_events = self.ticket_events(requester, Ts(created), &events, &comments);
        GenTicket {
            id,
            subject: subject.to_owned(),
            description: description.to_owned(),
            ticket_type: ticket_type.key(),
            status: last.key(),
            organization_id,
            requester_id: requester,
            assignee_id: worked.then_some(if escalated { tech_agent } else { support_agent }),
            group_id: worked.then_some(if escalated {
                self.population.tech_group
            } else {
                self.population.support_group
            }),
            channel: if self.rng.chance(60) {
                "widget"
            } else {
                "portal"
            },
            created_at: Ts(created),
            updated_at,
            solved_at,
            events,
            comments,
            ticket_events,
            attachments,
        }
    }

    /// The files a ticket carries: a screenshot's text log and a CSV,
    /// attached to the description (the ticket's first moment).
    fn attachments(&mut self, requester: i64, created: Ts) -> Vec<GenAttachment> {
        if self.attachment_percent == 0 || !self.rng.chance(self.attachment_percent) {
            return Vec::new();
        }
        let files = 1 + usize::from(self.rng.chance(50));
        DEMO_FILES[..files]
            .iter()
            .map(|(file_name, content_type, body)| GenAttachment {
                file_name,
                content_type,
                body,
                uploaded_by: requester,
                created_at: created,
                storage_key: String::new(),
            })
            .collect()
    }

    /// The audit trail of a generated history: `Created` when the ticket
    /// was opened, a `StatusChanged` per later status event and a
    /// `CommentAdded` per comment, in time order (ties keep that order),
    /// with ids that follow it.
    fn ticket_events(
        &mut self,
        requester: i64,
        created: Ts,
        events: &[GenEvent],
        comments: &[GenComment],
    ) -> Vec<GenTicketEvent> {
        let actor_kind = |key: &str| ActorKind::from_key(key).unwrap_or(ActorKind::System);
        let mut trail = Vec::with_capacity(events.len() + comments.len());
        if let Some(first) = events.first() {
            trail.push((
                created,
                actor_kind(first.actor_kind),
                first.actor_id,
                GenEventData::Created { status: first.to },
            ));
        }
        for event in events.iter().skip(1) {
            trail.push((
                event.at,
                actor_kind(event.actor_kind),
                event.actor_id,
                GenEventData::StatusChanged {
                    from: event.from.unwrap_or(event.to),
                    to: event.to,
                },
            ));
        }
        for comment in comments {
            let kind = match comment.author_id {
                Some(author) if author == requester => ActorKind::Customer,
                Some(_) => ActorKind::Agent,
                None => ActorKind::System,
            };
            trail.push((
                comment.created_at,
                kind,
                comment.author_id,
                GenEventData::CommentAdded {
                    comment_id: comment.id,
                    public: comment.public,
                },
            ));
        }
        // Stable: at equal times the status change precedes the comment.
        trail.sort_by_key(|entry| entry.0);
        trail
            .into_iter()
            .map(|(at, actor_kind, actor_id, data)| {
                let id = self.next_ticket_event;
                self.next_ticket_event += 1;
                GenTicketEvent {
                    id,
                    actor_kind,
                    actor_id,
                    at,
                    data,
                }
            })
            .collect()
    }
}

/// (name, e-mail, role, organizations, groups, id on the host platform)
type Person<'a> = (
    &'a str,
    &'a str,
    Role,
    &'a [&'a str],
    &'a [&'a str],
    &'a str,
);

/// What `chamado demo` created, for its start-up message.
#[derive(Clone, Debug)]
pub struct DemoSummary {
    pub logins: Vec<(String, String, Role)>,
    pub tickets: usize,
    pub attachments: usize,
}

/// A demo failure.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Attachment(#[from] AttachmentError),
}

/// Fills an empty database with the demo organizations, people and tickets.
#[expect(
    clippy::too_many_lines,
    reason = "the demo's cast is data, listed in full"
)]
pub async fn seed(state: &AppState, tickets: usize) -> Result<DemoSummary, DemoError> {
    let orgs = [
        ("Padaria Pão Dourado", "org-padaria"),
        ("Transportes Rio Claro", "org-rioclaro"),
        ("Clínica Bem Viver", "org-bemviver"),
    ];
    for (name, external_id) in orgs {
        accounts::create_org(state, name, Some(external_id), true).await?;
    }
    let people: [Person<'_>; 7] = [
        (
            "Ana Souza",
            "ana@padaria.example",
            Role::Customer,
            &["org-padaria", "org-rioclaro"],
            &[],
            "kamino-ana",
        ),
        (
            "Bruno Lima",
            "bruno@rioclaro.example",
            Role::Customer,
            &["org-rioclaro"],
            &[],
            "kamino-bruno",
        ),
        (
            "Carla Mendes",
            "carla@bemviver.example",
            Role::Customer,
            &["org-bemviver"],
            &[],
            "kamino-carla",
        ),
        (
            "Diego Alves",
            "diego@padaria.example",
            Role::Customer,
            &["org-padaria"],
            &[],
            "kamino-diego",
        ),
        (
            "Fernanda Costa",
            "fernanda@suporte.example",
            Role::Agent,
            &[],
            &["Suporte"],
            "staff-fernanda",
        ),
        (
            "Gustavo Reis",
            "gustavo@suporte.example",
            Role::Agent,
            &[],
            &["Tech"],
            "staff-gustavo",
        ),
        (
            "Helena Prado",
            "admin@suporte.example",
            Role::Admin,
            &[],
            &["Suporte", "Tech"],
            "staff-helena",
        ),
    ];
    let mut ids = Vec::new();
    let mut logins = Vec::new();
    for (name, email, role, org_ids, groups, external_id) in people {
        let organizations: Vec<String> = org_ids.iter().map(|s| (*s).to_owned()).collect();
        let groups: Vec<String> = groups.iter().map(|s| (*s).to_owned()).collect();
        let id = accounts::create_user(
            state,
            &UserInput {
                email,
                name,
                role,
                password: Some(DEMO_PASSWORD),
                external_id: Some(external_id),
                organizations: &organizations,
                groups: &groups,
            },
        )
        .await?;
        ids.push((id, role, organizations));
        logins.push((name.to_owned(), email.to_owned(), role));
    }
    let now = state.clock.now();
    let mut customers = Vec::new();
    for (id, role, _) in &ids {
        if *role == Role::Customer {
            let orgs = store::users::memberships(&state.db, *id).await?;
            customers.push((id.0, orgs.iter().map(|m| m.organization_id.0).collect()));
        }
    }
    let support_group = store::users::add_to_group(&state.db, ids[4].0, "Suporte", now).await?;
    let tech_group = store::users::add_to_group(&state.db, ids[5].0, "Tech", now).await?;
    let population = Population {
        customers,
        support_agents: vec![ids[4].0.0, ids[6].0.0],
        tech_agents: vec![ids[5].0.0],
        support_group: support_group.0,
        tech_group: tech_group.0,
    };
    let after = store::demo::max_ids(&state.db).await?;
    let mut generator = TicketGenerator::new(
        2026,
        population,
        now,
        SignedDuration::from_hours(24 * 60),
        after,
    );
    let mut written = 0;
    let mut first_tickets = Vec::new();
    while written < tickets {
        let batch = generator.batch((tickets - written).min(500));
        first_tickets.extend(
            batch
                .iter()
                .filter(|t| t.ticket_type == "incident")
                .take(8)
                .map(|t| (t.id, t.requester_id)),
        );
        store::demo::insert_tickets(&state.db, &batch).await?;
        written += batch.len();
    }
    store::demo::sync_sequences(&state.db).await?;
    let attachments = attach_demo_files(state, &first_tickets).await?;
    crate::service::hc_demo::seed(state, Some(ids[6].0)).await?;
    Ok(DemoSummary {
        logins,
        tickets: written,
        attachments,
    })
}

/// Gives a few incident tickets the kind of files customers send: a log
/// excerpt and a CSV. File first, row second.
async fn attach_demo_files(state: &AppState, tickets: &[(i64, i64)]) -> Result<usize, DemoError> {
    let mut count = 0;
    for (index, (ticket, requester)) in tickets.iter().take(8).enumerate() {
        let (name, content_type, body) = if index % 2 == 0 {
            (
                "erro-emissao.log",
                "text/plain",
                format!(
                    "2026-10-0{} 10:31:07 ERRO integração: tempo de resposta excedido (30 s)\n2026-10-0{} 10:31:37 ERRO nova tentativa falhou\n",
                    index + 1,
                    index + 1
                ),
            )
        } else {
            (
                "pedidos.csv",
                "text/csv",
                "pedido;valor;status\n4521;1520,00;aberto\n4522;980,50;pago\n".to_owned(),
            )
        };
        attachments::store(
            state,
            TicketId(*ticket),
            None,
            Some(crate::domain::UserId(*requester)),
            Upload {
                file_name: name.to_owned(),
                content_type: content_type.to_owned(),
                data: Bytes::from(body),
            },
        )
        .await?;
        count += 1;
    }
    Ok(count)
}
