-- Each Help Center translation keeps its title and text accent-folded
-- (hc_fold), as search highlights them: folding the bodies of a results page
-- on every search took a third of its time (BENCHMARKS.md).
alter table hc_article_translations
    add column title_folded text generated always as (hc_fold(title)) stored,
    add column body_folded text generated always as (hc_fold(body_text)) stored;
