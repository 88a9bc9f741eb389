SHOW TABLES 'tbsm*|uk'
