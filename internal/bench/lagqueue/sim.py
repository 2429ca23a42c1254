# A follower that reads, then applies a batch costing F + c*n ms (lognormal noise), with events
# committed once a millisecond (append latency ~2 ms) and two closes adding 60 ms each: the
# p50/p99/max lag for several batch-size caps. BENCHMARKS.md, "Lag, stop 23". python3 sim.py
import random
def sim(cap,F,c,closes=(5000,12000),close_cost=60.0,T=20000,noise=0.3,seed=1):
    random.seed(seed)
    arr=[i*1.0+random.expovariate(1/2.0) for i in range(T)]  # commit times (append latency ~2ms exp)
    arr.sort()
    t=0.0;i=0;lat=[]
    closes=list(closes)
    while i<T:
        t+=0.3 # read
        avail=i
        while avail<T and arr[avail]<=t: avail+=1
        if avail==i:
            t=max(t,arr[i]); continue
        n=min(cap,avail-i)
        cost=(F+c*n)*random.lognormvariate(0,noise)
        if closes and t>=closes[0]:
            cost+=close_cost; closes.pop(0)
        t+=cost
        for k in range(i,i+n): lat.append(t-(k*1.0))
        i+=n
    lat.sort()
    return lat[len(lat)//2],lat[int(.99*len(lat))],lat[-1]
for F,c in [(1.0,0.5),(1.0,0.7),(1.5,0.8),(1.0,0.85)]:
    print('F',F,'c',c)
    for cap in [2000,64,32,16,8]:
        print('   cap %5d p50 %.1f p99 %.1f max %.1f'%((cap,)+sim(cap,F,c)))
