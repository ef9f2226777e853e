from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "Directory"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
