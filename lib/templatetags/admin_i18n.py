from django import template

from lib import admin as admin_i18n

register = template.Library()

register.filter("object_name", admin_i18n.object_name)
register.filter("local_datetime", admin_i18n.local_datetime)
register.filter("change_message", admin_i18n.change_message)
