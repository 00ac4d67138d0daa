/* FQ6 native decode (1 token) over a ring of matrices larger than the caches: ROWS COLS RING_MB [LEVEL]; one thread. See README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
int fq6_gemm(const uint8_t *w, const float *sw, int groups, int bfrom, int bto, const int8_t *a, const float *sa,
             int tokens, int padded, float *y, long ystride, int lo, int hi, int rows, int32_t *partials, int level);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int rows=atoi(argv[1]), cols=atoi(argv[2]); long ringmb=atol(argv[3]); int level=argc>4?atoi(argv[4]):2;
  int groups=(cols+127)/128, blocks=(rows+15)/16; long mbytes=(long)blocks*groups*2048;
  int n=(int)(ringmb*1048576/mbytes); if(n<1)n=1;
  uint8_t **w=malloc(sizeof(void*)*n); float **sw=malloc(sizeof(void*)*n);
  for(int i=0;i<n;i++){w[i]=aligned_alloc(64,mbytes); for(long j=0;j<mbytes;j++) w[i][j]=rand()&63; sw[i]=aligned_alloc(64,blocks*groups*64); for(int j=0;j<blocks*groups*16;j++) sw[i][j]=1e-3f;}
  int8_t *a=malloc(groups*128); for(int j=0;j<groups*128;j++) a[j]=rand(); float sa[64]; for(int j=0;j<64;j++) sa[j]=0.01f;
  float *y=malloc(4*rows);
  for(int it=0;it<3*n;it++) fq6_gemm(w[it%n],sw[it%n],groups,0,blocks,a,sa,1,groups*128,y,rows,0,rows,rows,0,level);
  int iters=0; double t0=now(), t;
  do { for(int i=0;i<n;i++) fq6_gemm(w[i],sw[i],groups,0,blocks,a,sa,1,groups*128,y,rows,0,rows,rows,0,level); iters+=n; t=now(); } while(t-t0<1.0);
  double us=(t-t0)/iters*1e6; printf("%dx%d ring %ldMB (%d mats) level %d: %.1f us/matmul, %.2f GB/s\n",rows,cols,ringmb,n,level,us,mbytes/us/1e3);
}
