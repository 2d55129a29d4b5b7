"""The playbooks' admin handle: a model without a table (playbooks are files, creators/playbooks/*.json)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('creators', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='PlaybookFile',
            fields=[
                ('key', models.SlugField(max_length=60, primary_key=True, serialize=False)),
            ],
            options={
                'verbose_name': 'playbook',
                'verbose_name_plural': 'playbooks',
                'db_table': 'creators_playbook_file_none',
                'managed': False,
            },
        ),
    ]
