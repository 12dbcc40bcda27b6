FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=erp.settings.production
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir . \
    && DJANGO_SECRET_KEY=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
       python manage.py collectstatic --noinput
RUN useradd --create-home erp && chown -R erp /app
USER erp
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "erp.wsgi"]
