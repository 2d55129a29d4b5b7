from django.apps import AppConfig


class CreatorsCatalogConfig(AppConfig):
    name = "creators.catalog"
    label = "creators_catalog"
    verbose_name = "Content templates"
