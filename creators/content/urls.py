"""The content pages, under /content/ on a tenant's host (included by config/urls_tenant.py)."""

from django.urls import path

from creators.content import views

urlpatterns = [
    path("", views.content_library, name="content_library"),
    path("new/<slug:key>/", views.content_new, name="content_new"),
    path("<int:document_id>/", views.content_document, name="content_document"),
    path("<int:document_id>/export.md", views.content_export, {"extension": "md"}, name="content_export_md"),
    path("<int:document_id>/export.html", views.content_export, {"extension": "html"}, name="content_export_html"),
]
