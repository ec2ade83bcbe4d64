ALTER TABLE exp_exposures DROP COLUMN by_day;
