-- The initial questions a new ticket starts with (DESIGN §2, triage), in
-- the order they are asked. `key` names a question in stored answers; the
-- built-in ones (organization, type, subject, description, attachments)
-- fill the ticket's own fields, and questions admins add get a generated
-- key (`q-…`). Questions are deactivated, never deleted, so answers given
-- earlier keep their meaning.
create table triage_questions (
    id integer primary key,
    key text not null unique,
    position integer not null,
    kind text not null check (kind in ('choice', 'text', 'organization', 'attachment')),
    mandatory integer not null,
    text_pt text not null,
    text_en text not null,
    -- JSON list of {"value", "text_pt", "text_en"}, for choices.
    options text not null,
    active integer not null
);
create index triage_questions_by_position on triage_questions (position, id);
-- One organization question and one attachment question at most.
create unique index triage_questions_single_kind on triage_questions (kind)
    where kind in ('organization', 'attachment');

insert into triage_questions (key, position, kind, mandatory, text_pt, text_en, options, active) values
    ('organization', 1, 'organization', 1, 'Para qual organização é este ticket?', 'Which organization is this ticket for?', '[]', 1),
    ('type', 2, 'choice', 1, 'Qual é o tipo do ticket?', 'What type of ticket is it?',
     '[{"value":"incident","text_pt":"Incidente","text_en":"Incident"},{"value":"support","text_pt":"Suporte","text_en":"Support"}]', 1),
    ('subject', 3, 'text', 1, 'Qual é o assunto?', 'What is it about?', '[]', 1),
    ('description', 4, 'text', 1, 'Descreva o que aconteceu ou o que você precisa.', 'Describe what happened or what you need.', '[]', 1),
    ('attachments', 5, 'attachment', 0, 'Quer anexar arquivos (prints, documentos)?', 'Would you like to attach files (screenshots, documents)?', '[]', 1);
