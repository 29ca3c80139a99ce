# plot.gp -- bar chart of percore/redis throughput ratios, one cluster per
# (command, value size), one bar per (clients, pipeline) configuration.
# Called by report.py: gnuplot -e "datafile='...'; outfile='...'" plot.gp
# datafile: header line, then `"CASE" ratio_c1P1 ratio_c50P1 ratio_c50P16`
# (NaN where percore lacks the command).
set terminal pngcairo size 1400,600 font ",10"
set output outfile
set datafile missing "NaN"
set title "percore / redis-server throughput (redis-benchmark rps ratio, median; > 1: percore faster)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set grid ytics
set yrange [0:*]
set ylabel "rps ratio"
set xtics rotate by -45 scale 0
plot datafile using 2:xtic(1) title "-c 1 -P 1", \
     '' using 3 title "-c 50 -P 1", \
     '' using 4 title "-c 50 -P 16", \
     1 with lines lw 2 lc rgb "black" notitle
