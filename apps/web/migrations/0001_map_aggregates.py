"""The map's materialized aggregates (``apps.web.mapcells``): footprints per fine grid cell and per capture
month, each per photo audience. Refreshed by ``mapcells.map_aggregates_refresh`` (celery beat, command)."""

from django.db import migrations, models

MAP_CELL_DEG = 1.40625  # apps.web.mapcells.MAP_CELL_DEG at the time of this migration

CELLS = f"""
CREATE MATERIALIZED VIEW web_mapcell AS
SELECT row_number() OVER () AS id, c.* FROM (
    SELECT floor(ST_X(g.centre) / {MAP_CELL_DEG})::int AS gx, floor(ST_Y(g.centre) / {MAP_CELL_DEG})::int AS gy,
           p.visibility, coalesce(p.owner_id, 0) AS owner_id, coalesce(p.group_id, 0) AS group_id,
           count(*)::int AS n, sum(ST_X(g.centre)) AS sum_lon, sum(ST_Y(g.centre)) AS sum_lat,
           min(ST_XMin(f.polygon)) AS west, min(ST_YMin(f.polygon)) AS south,
           max(ST_XMax(f.polygon)) AS east, max(ST_YMax(f.polygon)) AS north
    FROM footprints_footprint f JOIN photos_photo p ON p.id = f.photo_id
    CROSS JOIN LATERAL (SELECT ST_Centroid(f.polygon) AS centre) g
    WHERE f.is_current
    GROUP BY 1, 2, 3, 4, 5
) c;
CREATE UNIQUE INDEX web_mapcell_key ON web_mapcell (gx, gy, visibility, owner_id, group_id);
"""

MONTHS = """
CREATE MATERIALIZED VIEW web_mapmonth AS
SELECT row_number() OVER () AS id, m.* FROM (
    SELECT date_trunc('month', p.captured_at AT TIME ZONE 'UTC')::date AS month,
           p.visibility, coalesce(p.owner_id, 0) AS owner_id, coalesce(p.group_id, 0) AS group_id,
           count(*)::int AS n
    FROM footprints_footprint f JOIN photos_photo p ON p.id = f.photo_id
    WHERE f.is_current AND p.captured_at IS NOT NULL
    GROUP BY 1, 2, 3, 4
) m;
CREATE UNIQUE INDEX web_mapmonth_key ON web_mapmonth (month, visibility, owner_id, group_id);
"""


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("footprints", "0004_alter_footprint_source"),
        ("photos", "0004_photo_updated_at_index"),
    ]

    operations = [
        migrations.CreateModel(
            name='MapCell',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('gx', models.IntegerField()),
                ('gy', models.IntegerField()),
                ('visibility', models.CharField(max_length=8)),
                ('owner_id', models.IntegerField()),
                ('group_id', models.IntegerField()),
                ('n', models.IntegerField()),
                ('sum_lon', models.FloatField()),
                ('sum_lat', models.FloatField()),
                ('west', models.FloatField()),
                ('south', models.FloatField()),
                ('east', models.FloatField()),
                ('north', models.FloatField()),
            ],
            options={
                'db_table': 'web_mapcell',
                'managed': False,
            },
        ),
        migrations.CreateModel(
            name='MapMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('visibility', models.CharField(max_length=8)),
                ('owner_id', models.IntegerField()),
                ('group_id', models.IntegerField()),
                ('n', models.IntegerField()),
            ],
            options={
                'db_table': 'web_mapmonth',
                'managed': False,
            },
        ),
        migrations.RunSQL(CELLS, "DROP MATERIALIZED VIEW web_mapcell"),
        migrations.RunSQL(MONTHS, "DROP MATERIALIZED VIEW web_mapmonth"),
    ]
