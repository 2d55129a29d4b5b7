"""The admin's handle on the playbooks. Playbooks are files (creators/playbooks/*.json), not rows: this model has no
table (managed = False) and only gives the ops admin a place to list and read the loaded files and their versions."""

from django.db import models


class PlaybookFile(models.Model):
    key = models.SlugField(max_length=60, primary_key=True)

    class Meta:
        managed = False
        db_table = "creators_playbook_file_none"  # never created: creators.admin reads the files instead
        verbose_name = "playbook"
        verbose_name_plural = "playbooks"

    def __str__(self) -> str:
        return self.key
