from django.db import migrations


def create_counter(apps, schema_editor):
    SiteCounter = apps.get_model("articles", "SiteCounter")
    Article = apps.get_model("articles", "Article")
    SiteCounter.objects.get_or_create(name="articles", defaults={"value": Article.objects.count()})


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]

    operations = [migrations.RunPython(create_counter, migrations.RunPython.noop)]
