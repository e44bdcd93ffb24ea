//! Benchmark data sets (`chamado bench-data`): many organizations of very
//! different sizes, customers in one to three of them, staff, and tickets
//! from the demo's generator with their histories, comments, audit trail
//! and files. Deterministic for a given seed; written in batches so memory
//! stays bounded whatever the ticket count.

use std::time::Instant;

use jiff::SignedDuration;

use crate::{
    AppState,
    service::demo::{OrgWeights, Population, Rng, TicketGenerator},
    store::{
        self, StoreError, Ts,
        bench::{GenMembership, GenOrg, GenUser},
        demo::MaxIds,
    },
};

/// The password of the benchmark's sign-in accounts.
pub const BENCH_PASSWORD: &str = "chamado-bench";
/// The customer the benchmarks sign in as: a member, with the organization
/// view, of the largest organization (and of two small ones).
pub const BENCH_CUSTOMER: &str = "cliente@bench.example";
pub const BENCH_AGENT: &str = "agente@bench.example";
pub const BENCH_ADMIN: &str = "admin@bench.example";

/// Tickets per transaction.
const BATCH: usize = 2_000;
/// Staff in each group.
const SUPPORT_AGENTS: i64 = 20;
const TECH_AGENTS: i64 = 10;
/// Share of tickets that carry one or two files.
const ATTACHMENT_PERCENT: u64 = 2;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct BenchSpec {
    pub tickets: usize,
    pub orgs: usize,
    pub users: usize,
    pub comments_per_ticket: usize,
    pub seed: u64,
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct BenchSummary {
    pub tickets: usize,
    pub orgs: usize,
    pub customers: usize,
    pub memberships: usize,
    pub attachments: usize,
    /// Help Center articles (each in pt-BR and English).
    pub articles: usize,
    /// The largest organization: (id, name).
    pub largest_org: (i64, String),
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(
        "the database already holds organizations, people, tickets or Help Center content; bench-data fills an empty one \
         (point --database-url at a new file or database)"
    )]
    NotEmpty,
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

const NAME_FIRST: &[&str] = &[
    "Comércio",
    "Indústria",
    "Padaria",
    "Transportes",
    "Clínica",
    "Mercado",
    "Oficina",
    "Construtora",
    "Farmácia",
    "Escola",
    "Restaurante",
    "Agência",
    "Distribuidora",
    "Laboratório",
    "Papelaria",
    "Hotel",
];
const NAME_SECOND: &[&str] = &[
    "Aurora",
    "Horizonte",
    "Ipê",
    "Jatobá",
    "Litoral",
    "Serra Azul",
    "Vale Verde",
    "Boa Vista",
    "Central",
    "Estrela",
    "Primavera",
    "Rio Claro",
    "Sol Nascente",
    "Três Lagoas",
    "Cristal",
    "Planalto",
];
const GIVEN: &[&str] = &[
    "Ana", "Bruno", "Carla", "Diego", "Elisa", "Fábio", "Gabriela", "Heitor", "Isabela", "João",
    "Larissa", "Marcos", "Natália", "Otávio", "Paula", "Rafael", "Sofia", "Tiago", "Vanessa",
    "Wagner",
];
const FAMILY: &[&str] = &[
    "Almeida", "Barbosa", "Cardoso", "Dias", "Esteves", "Ferreira", "Gomes", "Lima", "Martins",
    "Nogueira", "Oliveira", "Pereira", "Ribeiro", "Santos", "Teixeira", "Vieira",
];

/// Zipf-like weight of the organization of rank `rank` (1-based): the
/// largest holds about a tenth of all tickets among 10,000 organizations.
fn weight(rank: usize) -> u64 {
    1_000_000_000 / u64::try_from(rank).unwrap_or(u64::MAX).max(1)
}

fn pick_weighted(rng: &mut Rng, cumulative: &[u64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(1);
    let r = rng.below(total);
    cumulative.partition_point(|&c| c <= r)
}

/// Fills an empty database; `progress(done, total)` is called after each
/// batch of tickets (after the last one, the indexes are built). Secondary
/// indexes are dropped for the load and built again at the end (and so are
/// SQLite's full-text search triggers and indexes), so an interrupted run
/// leaves a database to delete.
pub async fn generate(
    state: &AppState,
    spec: BenchSpec,
    progress: impl FnMut(usize, usize),
) -> Result<BenchSummary, BenchError> {
    if spec.orgs == 0 || spec.users == 0 {
        return Err(BenchError::Invalid("--orgs and --users must be at least 1"));
    }
    if store::bench::existing_rows(&state.db).await? > 0 {
        return Err(BenchError::NotEmpty);
    }
    let started = Instant::now();
    let indexes = store::bench::drop_secondary_indexes(&state.db).await?;
    let search = store::bench::suspend_search_triggers(&state.db).await?;
    let status_since = store::bench::suspend_status_since(&state.db).await?;
    let mut rng = Rng::new(spec.seed);
    let password_hash = state.passwords.hash(BENCH_PASSWORD).await?;
    let orgs = create_orgs(state, &spec, &mut rng).await?;
    let (members, memberships) = create_customers(state, &spec, &mut rng, &password_hash).await?;
    let population = create_staff(state, &spec, &mut rng, &password_hash).await?;
    store::demo::sync_sequences(&state.db).await?;
    let weights = OrgWeights::new(
        orgs.iter()
            .zip(members)
            .enumerate()
            .map(|(rank, (org, members))| (org.id, members, weight(rank + 1)))
            .collect(),
    );
    let (tickets, attachments) = load_tickets(state, &spec, population, weights, progress).await?;
    store::demo::sync_sequences(&state.db).await?;
    store::bench::create_indexes(&state.db, &indexes).await?;
    // After the indexes: it reads each ticket's status events by ticket.
    store::bench::restore_status_since(&state.db, &status_since).await?;
    store::bench::rebuild_search(&state.db, &search).await?;
    // The demo's Help Center, so that its search (benchmark scenario 7)
    // finds and highlights real articles.
    let articles = crate::service::hc_demo::seed(state, None).await?;
    Ok(BenchSummary {
        tickets,
        orgs: spec.orgs,
        customers: spec.users,
        memberships,
        attachments,
        articles,
        largest_org: (orgs[0].id, orgs[0].name.clone()),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Organizations, largest first (ids 1, 2, …).
async fn create_orgs(
    state: &AppState,
    spec: &BenchSpec,
    rng: &mut Rng,
) -> Result<Vec<GenOrg>, BenchError> {
    let orgs: Vec<GenOrg> = (1..=spec.orgs)
        .map(|n| GenOrg {
            id: i64::try_from(n).unwrap_or(i64::MAX),
            external_id: format!("bench-org-{n}"),
            name: format!(
                "{} {} {n:05}",
                rng.pick_text(NAME_FIRST),
                rng.pick_text(NAME_SECOND)
            ),
        })
        .collect();
    store::bench::insert_orgs(&state.db, &orgs, Ts(state.clock.now())).await?;
    Ok(orgs)
}

/// Customers (ids 1, 2, …): the first ones found one organization each, so
/// every organization has a member; the rest join by the same skew as the
/// tickets, a third of them in a second or third one. Returns each
/// organization's members and the number of memberships.
async fn create_customers(
    state: &AppState,
    spec: &BenchSpec,
    rng: &mut Rng,
    password_hash: &str,
) -> Result<(Vec<Vec<i64>>, usize), BenchError> {
    let at = Ts(state.clock.now());
    let cumulative: Vec<u64> = (1..=spec.orgs)
        .scan(0u64, |total, rank| {
            *total += weight(rank);
            Some(*total)
        })
        .collect();
    let mut members: Vec<Vec<i64>> = vec![Vec::new(); spec.orgs];
    let mut memberships = Vec::new();
    let mut users = Vec::new();
    let mut count = 0;
    for n in 0..spec.users {
        let id = 1 + i64::try_from(n).unwrap_or(i64::MAX);
        let (email, name) = if n == 0 {
            (BENCH_CUSTOMER.to_owned(), "Cliente Bench".to_owned())
        } else {
            (
                format!("cliente{n}@bench.example"),
                format!("{} {}", rng.pick_text(GIVEN), rng.pick_text(FAMILY)),
            )
        };
        let mut own: Vec<usize> = Vec::with_capacity(3);
        if n == 0 {
            // The benchmark customer: the largest organization and two small ones.
            own.extend([0, spec.orgs / 2, spec.orgs - 1]);
        } else {
            own.push(if n < spec.orgs {
                n
            } else {
                pick_weighted(rng, &cumulative)
            });
            let extra = match rng.below(10) {
                0 => 2,
                1 | 2 => 1,
                _ => 0,
            };
            for _ in 0..extra {
                own.push(usize::try_from(rng.below(spec.orgs as u64)).unwrap_or(0));
            }
        }
        own.sort_unstable();
        own.dedup();
        for org in own {
            members[org].push(id);
            memberships.push(GenMembership {
                user_id: id,
                organization_id: i64::try_from(org).unwrap_or(i64::MAX) + 1,
                can_see_org_tickets: n == 0 || rng.chance(80),
            });
        }
        users.push(GenUser {
            id,
            external_id: format!("bench-user-{n}"),
            email,
            name,
            role: "customer",
            password_hash: (n == 0).then(|| password_hash.to_owned()),
        });
        if users.len() == 20_000 {
            store::bench::insert_users(&state.db, &users, at).await?;
            users.clear();
        }
        if memberships.len() >= 50_000 {
            // The members first: memberships refer to them.
            store::bench::insert_users(&state.db, &users, at).await?;
            users.clear();
            store::bench::insert_memberships(&state.db, &memberships, at).await?;
            count += memberships.len();
            memberships.clear();
        }
    }
    store::bench::insert_users(&state.db, &users, at).await?;
    store::bench::insert_memberships(&state.db, &memberships, at).await?;
    count += memberships.len();
    Ok((members, count))
}

/// Staff after the customers: agents of Suporte and Tech and an admin; the
/// first agent and the admin can sign in.
async fn create_staff(
    state: &AppState,
    spec: &BenchSpec,
    rng: &mut Rng,
    password_hash: &str,
) -> Result<Population, BenchError> {
    let now = state.clock.now();
    let first = 1 + i64::try_from(spec.users).unwrap_or(i64::MAX);
    let admin = SUPPORT_AGENTS + TECH_AGENTS;
    let staff: Vec<GenUser> = (0..=admin)
        .map(|k| {
            let (email, role) = match k {
                0 => (BENCH_AGENT.to_owned(), "agent"),
                k if k == admin => (BENCH_ADMIN.to_owned(), "admin"),
                k => (format!("agente{k}@bench.example"), "agent"),
            };
            GenUser {
                id: first + k,
                external_id: format!("bench-staff-{k}"),
                email,
                name: format!("{} {}", rng.pick_text(GIVEN), rng.pick_text(FAMILY)),
                role,
                password_hash: (k == 0 || k == admin).then(|| password_hash.to_owned()),
            }
        })
        .collect();
    store::bench::insert_users(&state.db, &staff, Ts(now)).await?;
    let mut support_group = None;
    let mut tech_group = None;
    for k in 0..=admin {
        let id = crate::domain::UserId(first + k);
        if k < SUPPORT_AGENTS || k == admin {
            support_group = Some(store::users::add_to_group(&state.db, id, "Suporte", now).await?);
        }
        if k >= SUPPORT_AGENTS {
            tech_group = Some(store::users::add_to_group(&state.db, id, "Tech", now).await?);
        }
    }
    let (Some(support_group), Some(tech_group)) = (support_group, tech_group) else {
        return Err(BenchError::Invalid("the staff groups could not be created"));
    };
    Ok(Population {
        customers: vec![(1, vec![1])],
        support_agents: (first..first + SUPPORT_AGENTS).collect(),
        tech_agents: (first + SUPPORT_AGENTS..first + admin).collect(),
        support_group: support_group.0,
        tech_group: tech_group.0,
    })
}

/// Tickets, produced on a blocking thread while the previous batch is
/// written; files first, rows second. Returns (tickets, attachments).
async fn load_tickets(
    state: &AppState,
    spec: &BenchSpec,
    population: Population,
    weights: OrgWeights,
    mut progress: impl FnMut(usize, usize),
) -> Result<(usize, usize), BenchError> {
    let (total, seed, comments) = (spec.tickets, spec.seed, spec.comments_per_ticket);
    let now = state.clock.now();
    let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
    let producer = tokio::task::spawn_blocking(move || {
        let mut generator = TicketGenerator::new(
            seed,
            population,
            now,
            SignedDuration::from_hours(24 * 365 * 2),
            MaxIds::default(),
        )
        .with_org_weights(weights)
        .with_min_comments(comments)
        .with_attachments(ATTACHMENT_PERCENT);
        let mut made = 0;
        while made < total {
            let batch = generator.batch((total - made).min(BATCH));
            made += batch.len();
            if sender.blocking_send(batch).is_err() {
                return;
            }
        }
    });
    let (mut tickets, mut attachments) = (0, 0);
    while let Some(mut batch) = receiver.recv().await {
        for ticket in &mut batch {
            for file in &mut ticket.attachments {
                let stored = state
                    .blobs
                    .put(bytes::Bytes::from_static(file.body.as_bytes()))
                    .await
                    .map_err(|e| BenchError::Other(anyhow::anyhow!("storing a file: {e}")))?;
                file.storage_key = stored.key;
                attachments += 1;
            }
        }
        store::demo::insert_tickets(&state.db, &batch).await?;
        tickets += batch.len();
        progress(tickets, total);
    }
    producer
        .await
        .map_err(|e| BenchError::Other(anyhow::anyhow!("the generator stopped: {e}")))?;
    Ok((tickets, attachments))
}
