from django.apps import AppConfig
from django.db.models.signals import post_migrate


def install_search_index(sender, using, **kwargs):
    from .search import index

    index.install(using)


def install_sync(sender, using, **kwargs):
    from . import sync

    sync.install(using)


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "Directory"

    def ready(self):
        from . import history
        from .search import synonyms

        history.register()
        # The index lives in the database (functions and triggers): put it in place after
        # every migrate, as Django does with permissions.
        post_migrate.connect(install_search_index, sender=self, dispatch_uid="search_index")
        post_migrate.connect(install_sync, sender=self, dispatch_uid="sync")
        synonyms.follow_edits()
