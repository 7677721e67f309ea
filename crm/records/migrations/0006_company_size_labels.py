"""Company sizes get labels people read ("11–50"); before, Django derived "S11" from the names."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0005_activitylink_occurred_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="company",
            name="size",
            field=models.CharField(
                blank=True,
                choices=[
                    ("1-10", "1–10"),
                    ("11-50", "11–50"),
                    ("51-200", "51–200"),
                    ("201-500", "201–500"),
                    ("501-1000", "501–1,000"),
                    ("1001-5000", "1,001–5,000"),
                    ("5001+", "5,001+"),
                ],
                max_length=20,
            ),
        ),
    ]
