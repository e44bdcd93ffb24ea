-- Each node caches Help Center search result pages (`service::node_cache`).
-- Any change to the Help Center's content, on any node or by any other tool,
-- notifies `chamado_cache` at commit (the function of migration 0013), and
-- every node drops what it cached.
create trigger hc_categories_cache_changed after insert or update or delete on hc_categories
    for each statement execute function chamado_cache_changed();
create trigger hc_sections_cache_changed after insert or update or delete on hc_sections
    for each statement execute function chamado_cache_changed();
create trigger hc_articles_cache_changed after insert or update or delete on hc_articles
    for each statement execute function chamado_cache_changed();
create trigger hc_article_translations_cache_changed after insert or update or delete on hc_article_translations
    for each statement execute function chamado_cache_changed();
